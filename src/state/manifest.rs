//! The saved-takes manifest: what the plugin state holds. Small (no audio), versioned, and checked
//! for being ours before anything in it is used.

use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "redance-takes";
pub const VERSION: u32 = 1;

/// A content-addressed audio file under the data folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRef {
    /// File name inside the takes folder.
    pub name: String,
    /// SHA-256 of the samples (see [`super::files::content_hash`]), hex.
    pub sha256: String,
    pub sample_rate: u32,
    pub channels: usize,
    pub frames: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceEntry {
    pub file: FileRef,
    /// Timeline position of the first frame (samples at the file's rate); `None`: played freely.
    pub start_pos: Option<i64>,
    /// The recorded strength curve, evenly spaced over the source.
    pub strength: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TakeEntry {
    pub id: u64,
    pub file: FileRef,
    pub source_sha256: String,
    pub start_pos: Option<i64>,
    pub mode: String,
    pub seed: u64,
    pub steps: u32,
    pub sampler: String,
    /// Mean strength over the take.
    pub strength: f32,
    pub kept: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub source: Option<SourceEntry>,
    /// Oldest first; the current take is `current`.
    pub history: Vec<TakeEntry>,
    pub current: Option<u64>,
}

impl Default for Manifest {
    fn default() -> Self {
        Self { format: FORMAT.into(), version: VERSION, source: None, history: Vec::new(), current: None }
    }
}

impl Manifest {
    /// `Ok(None)` for a state without takes (an older or fresh one); `Err` in words for anything
    /// that is not a manifest of ours.
    pub fn parse(value: &serde_json::Value) -> Result<Option<Manifest>, String> {
        if value.is_null() {
            return Ok(None);
        }
        let format = value.get("format").and_then(|f| f.as_str());
        if format != Some(FORMAT) {
            return Err("the saved takes are not Redance's (foreign or damaged state)".into());
        }
        let version = value.get("version").and_then(|v| v.as_u64());
        if version != Some(VERSION as u64) {
            return Err(format!(
                "the saved takes are format version {}, this Redance reads version {VERSION}",
                version.map_or("?".to_string(), |v| v.to_string())
            ));
        }
        serde_json::from_value(value.clone()).map(Some).map_err(|e| format!("the saved takes are damaged ({e})"))
    }

    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a manifest always serializes")
    }

    pub fn current_take(&self) -> Option<&TakeEntry> {
        let id = self.current?;
        self.history.iter().find(|t| t.id == id)
    }
}
