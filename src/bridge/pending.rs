//! A render that had not finished when the project was saved: the manifest's `pending` entry, written
//! when a render starts (after the source's WAV is on disk) and cleared when its take is saved, and
//! read back into a source and settings when the project reopens, so the capture is rendered again.

use super::job::Source;
use crate::boundary::RenderChoice;
use crate::state::files;
use crate::state::manifest::{PendingEntry, SourceEntry};
use redance_engine::ModeKind;
use std::path::Path;
use std::sync::Arc;

/// The entry for a render of `source` with `choice`.
pub fn entry(source: SourceEntry, choice: &RenderChoice) -> PendingEntry {
    PendingEntry {
        source,
        mode: choice.mode.name().into(),
        seed: choice.seed,
        steps: choice.steps,
        sampler: choice.sampler.name().into(),
        position: choice.position,
        match_level: choice.match_level,
    }
}

/// The source (its file loaded and checked) and the settings to render it again; the error says,
/// in words, what is wrong with the saved entry.
pub fn resume(data_dir: &Path, entry: &PendingEntry) -> Result<(Source, RenderChoice), String> {
    check(entry)?;
    let audio = Arc::new(files::load(data_dir, &entry.source.file)?);
    settings(audio, entry)
}

/// As [`resume`], with the source's audio already loaded (it is the manifest's source too).
pub fn resume_loaded(loaded: &Source, entry: &PendingEntry) -> Result<(Source, RenderChoice), String> {
    check(entry)?;
    settings(loaded.audio.clone(), entry)
}

fn check(entry: &PendingEntry) -> Result<(), String> {
    let curve = &entry.source.strength;
    if curve.is_empty() || curve.iter().any(|s| !s.is_finite()) {
        return Err("its strength curve is damaged".into());
    }
    Ok(())
}

fn settings(audio: Arc<redance_engine::Audio>, entry: &PendingEntry) -> Result<(Source, RenderChoice), String> {
    let mode = ModeKind::from_name(&entry.mode).ok_or_else(|| format!("unknown mode '{}'", entry.mode))?;
    let sampler = entry.sampler.parse().map_err(|_| format!("unknown sampler '{}'", entry.sampler))?;
    let source = Source {
        audio,
        start_pos: entry.source.start_pos,
        strength: entry.source.strength.iter().map(|s| s.clamp(0.0, 1.0)).collect(),
    };
    let choice = RenderChoice {
        steps: entry.steps.max(1),
        sampler,
        seed: entry.seed,
        mode,
        position: if entry.position.is_finite() { entry.position } else { 0.5 },
        auto_render: true,
        match_level: entry.match_level,
    };
    Ok((source, choice))
}
