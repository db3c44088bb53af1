//! The saved-takes manifest: what the plugin state holds. Small (no audio), versioned, and checked
//! for being ours before anything in it is used. Version 2 adds `pending` (a capture whose render had
//! not finished when the project was saved); version 1 states read as having none. `journal` (optional,
//! so older versions read it too) names the instance's recovery journal.

use super::journal::JournalTag;
use serde::{Deserialize, Serialize};

/// The manifest's `format` field: ours.
pub const FORMAT: &str = "redance-takes";
/// The version written; every version from `OLDEST_READ` up to it is read.
pub const VERSION: u32 = 2;
/// The oldest version still read.
pub const OLDEST_READ: u32 = 1;

/// A content-addressed audio file under the data folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRef {
    /// File name inside the takes folder.
    pub name: String,
    /// SHA-256 of the samples (see [`super::files::content_hash`]), hex.
    pub sha256: String,
    /// The file's rate.
    pub sample_rate: u32,
    /// Its channels.
    pub channels: usize,
    /// Its frames.
    pub frames: usize,
}

/// The captured region, as saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceEntry {
    /// Its audio file.
    pub file: FileRef,
    /// Timeline position of the first frame (samples at the file's rate); `None`: played freely.
    pub start_pos: Option<i64>,
    /// The recorded strength curve, evenly spaced over the source.
    pub strength: Vec<f32>,
}

/// A take in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TakeEntry {
    /// The take's id (never 0).
    pub id: u64,
    /// Its audio file.
    pub file: FileRef,
    /// The SHA-256 of the source it was rendered from.
    pub source_sha256: String,
    /// Timeline position of its first frame; `None`: played freely.
    pub start_pos: Option<i64>,
    /// Its mode's name (`ModeKind::name`).
    pub mode: String,
    /// Its seed.
    pub seed: u64,
    /// Its steps.
    pub steps: u32,
    /// Its sampler's name.
    pub sampler: String,
    /// Mean strength over the take.
    pub strength: f32,
    /// Kept: it stays in the history.
    pub kept: bool,
}

/// A render asked for and not finished when the state was taken: the source it renders (its WAV is
/// written before this entry exists) and the settings, so a reopened project renders it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingEntry {
    /// The captured region: file, timeline position and the strength curve recorded with it.
    pub source: SourceEntry,
    /// The mode's name.
    pub mode: String,
    /// The seed.
    pub seed: u64,
    /// The steps.
    pub steps: u32,
    /// The sampler's name.
    pub sampler: String,
    /// Interpolation position (mode "interpolate").
    pub position: f32,
    /// Whether the take is brought back to the source's loudness (absent before it was a setting:
    /// then it was not).
    #[serde(default)]
    pub match_level: bool,
}

/// The saved takes: source, history, current take and pending render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TakesManifest {
    /// Always `FORMAT`.
    pub format: String,
    /// The version it was written in.
    pub version: u32,
    /// The latest capture.
    pub source: Option<SourceEntry>,
    /// Oldest first; the current take is `current`.
    pub history: Vec<TakeEntry>,
    /// The id of the take that plays.
    pub current: Option<u64>,
    /// The render under way when the state was taken; absent (version 1) reads as none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingEntry>,
    /// The instance's recovery journal and how far along it this manifest is (see
    /// [`super::journal`]); absent in states saved before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<JournalTag>,
}

impl Default for TakesManifest {
    fn default() -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            source: None,
            history: Vec::new(),
            current: None,
            pending: None,
            journal: None,
        }
    }
}

impl TakesManifest {
    /// `Ok(None)` for a state without takes (an older or fresh one); `Err` in words for anything
    /// that is not a manifest of ours.
    pub fn parse(value: &serde_json::Value) -> Result<Option<TakesManifest>, String> {
        if value.is_null() {
            return Ok(None);
        }
        let format = value.get("format").and_then(|f| f.as_str());
        if format != Some(FORMAT) {
            return Err("the saved takes are not Redance's (foreign or damaged state)".into());
        }
        let version = value.get("version").and_then(|v| v.as_u64());
        if !version.is_some_and(|v| (OLDEST_READ as u64..=VERSION as u64).contains(&v)) {
            return Err(format!(
                "the saved takes are format version {}, this Redance reads versions {OLDEST_READ} to {VERSION}",
                version.map_or("?".to_string(), |v| v.to_string())
            ));
        }
        let mut manifest: TakesManifest =
            serde_json::from_value(value.clone()).map_err(|e| format!("the saved takes are damaged ({e})"))?;
        // Saved again, it is in the current format (what was read stays as read until then).
        manifest.version = VERSION;
        Ok(Some(manifest))
    }

    /// As JSON for the plugin state.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a manifest always serializes")
    }

    /// The entry of the take that plays.
    pub fn current_take(&self) -> Option<&TakeEntry> {
        let id = self.current?;
        self.history.iter().find(|t| t.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> FileRef {
        FileRef { name: "a.wav".into(), sha256: "ab".into(), sample_rate: 48_000, channels: 2, frames: 10 }
    }

    #[test]
    fn a_version_1_manifest_reads_without_a_pending_render() {
        let v = serde_json::json!({"format": FORMAT, "version": 1, "source": null, "history": [], "current": null});
        let m = TakesManifest::parse(&v).unwrap().unwrap();
        assert_eq!(m.pending, None);
        assert_eq!(m.version, VERSION);
    }

    #[test]
    fn a_pending_render_round_trips_and_is_absent_when_none() {
        let source = SourceEntry { file: file(), start_pos: Some(96_000), strength: vec![0.2, 0.4] };
        let pending = PendingEntry {
            source: source.clone(),
            mode: "variation".into(),
            seed: 7,
            steps: 12,
            sampler: "DDIM".into(),
            position: 0.5,
            match_level: true,
        };
        let m = TakesManifest { source: Some(source), pending: Some(pending), ..TakesManifest::default() };
        assert_eq!(TakesManifest::parse(&m.to_value()).unwrap().unwrap(), m);
        assert!(TakesManifest::default().to_value().get("pending").is_none());
    }

    #[test]
    fn a_newer_version_is_refused_in_words() {
        let v = serde_json::json!({"format": FORMAT, "version": VERSION + 1});
        let e = TakesManifest::parse(&v).unwrap_err();
        assert!(e.contains("format version 3") && e.contains("reads versions 1 to 2"), "{e}");
    }
}
