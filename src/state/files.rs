//! Audio files under the data folder, named by content: `takes/<first 16 hex of sha256>.wav`, float
//! WAV, verified against the full hash on load.

use super::manifest::FileRef;
use redance_engine::Audio;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// `REDANCE_DATA_DIR`, else the platform's data folder (defined once, in the engine: the CLI's model
/// import uses the same folder).
pub fn default_data_dir() -> PathBuf {
    redance_engine::model::library::default_data_dir()
}

/// SHA-256 over rate, channel count and the samples (f32 little-endian, planar).
pub fn content_hash(audio: &Audio) -> String {
    let mut h = Sha256::new();
    h.update(audio.sample_rate.to_le_bytes());
    h.update((audio.num_channels() as u64).to_le_bytes());
    for c in &audio.channels {
        for s in c {
            h.update(s.to_le_bytes());
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn takes_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("takes")
}

/// Writes `audio` (once: an existing file of the same content is reused).
pub fn store(data_dir: &Path, audio: &Audio) -> Result<FileRef, String> {
    let sha256 = content_hash(audio);
    let name = format!("{}.wav", &sha256[..16]);
    let dir = takes_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create the takes folder {} ({e})", dir.display()))?;
    let path = dir.join(&name);
    if !path.exists() {
        audio.write_wav(&path).map_err(|e| e.to_string())?;
    }
    Ok(FileRef { name, sha256, sample_rate: audio.sample_rate, channels: audio.num_channels(), frames: audio.frames() })
}

/// Reads and verifies a stored file; the error says what the musician lost and why.
pub fn load(data_dir: &Path, file: &FileRef) -> Result<Audio, String> {
    let path = takes_dir(data_dir).join(&file.name);
    if file.name.contains(['/', '\\']) || file.name.starts_with('.') {
        return Err(format!("the saved take names an invalid file ({})", file.name));
    }
    if !path.exists() {
        return Err(format!("the take file {} is missing", path.display()));
    }
    let audio = Audio::read_wav(&path).map_err(|e| e.to_string())?;
    if content_hash(&audio) != file.sha256 {
        return Err(format!("the take file {} has changed since it was saved (content hash differs)", path.display()));
    }
    Ok(audio)
}
