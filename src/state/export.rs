//! Export of a take as WAV, named so the musician finds it: track, mode, strength, seed.

use super::manifest::TakeEntry;
use redance_engine::Audio;
use std::path::{Path, PathBuf};

/// `REDANCE_EXPORT_DIR`, else `exports` under the data folder.
pub fn default_export_dir(data_dir: &Path) -> PathBuf {
    std::env::var_os("REDANCE_EXPORT_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.join("exports"))
}

/// `Bass-variation-s0.50-seed42-take3.wav`; characters a file system may refuse become `_`.
pub fn file_name(track: Option<&str>, take: &TakeEntry) -> String {
    let track = track.map(str::trim).filter(|t| !t.is_empty()).unwrap_or("Redance");
    let track: String = track.chars().map(|c| if c.is_alphanumeric() || "-_ ".contains(c) { c } else { '_' }).collect();
    format!("{track}-{}-s{:.2}-seed{}-take{}.wav", take.mode, take.strength, take.seed, take.id)
}

/// Writes `audio` as `dir/name`, creating `dir`; the path.
pub fn export(dir: &Path, name: &str, audio: &Audio) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {} ({e})", dir.display()))?;
    let path = dir.join(name);
    audio.write_wav(&path).map_err(|e| e.to_string())?;
    Ok(path)
}
