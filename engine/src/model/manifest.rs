//! The JSON manifest that travels with every `.onnx`: rate, shapes, names and a content hash, so a
//! wrong or damaged file is refused with a clear message instead of producing noise.

use super::ModelInfo;
use crate::error::{EngineError, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The default model, embedded so that the plugin and CLI work with no files beside them.
const DEFAULT_MANIFEST: &str = include_str!("../../../models/default/manifest.json");
const DEFAULT_ONNX: &[u8] = include_bytes!("../../../models/default/model.onnx");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub sample_rate: u32,
    pub channels: usize,
    pub window_length: usize,
    pub length_multiple: usize,
    pub min_length: usize,
    pub objective: String,
    pub inputs: InputNames,
    pub output: String,
    pub onnx: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputNames {
    pub audio: String,
    pub t: String,
}

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ModelSource {
    /// The small model compiled into Redance.
    #[default]
    Embedded,
    /// A directory holding `manifest.json`, or the manifest file itself.
    Path(PathBuf),
}

impl ModelSource {
    pub fn describe(&self) -> String {
        match self {
            ModelSource::Embedded => "built-in default model".into(),
            ModelSource::Path(p) => p.display().to_string(),
        }
    }
}

/// A manifest with its verified model bytes.
pub struct LoadedModelFiles {
    pub manifest: Manifest,
    pub onnx: std::borrow::Cow<'static, [u8]>,
    /// Shown to the user: where the model was read from.
    pub origin: String,
}

impl Manifest {
    pub fn parse(text: &str, path: &Path) -> Result<Manifest> {
        let manifest: Manifest = serde_json::from_str(text).map_err(|e| EngineError::Manifest {
            path: path.to_owned(),
            reason: format!("not a valid manifest ({e})"),
        })?;
        manifest.validate(path)?;
        Ok(manifest)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |reason: String| Err(EngineError::Manifest { path: path.to_owned(), reason });
        if self.format != 1 {
            return bad(format!("format {} is not supported (this Redance reads format 1)", self.format));
        }
        if self.objective != "v" {
            return bad(format!("objective '{}' is not supported (Dance Diffusion models are 'v')", self.objective));
        }
        if self.sample_rate < 8_000 || self.sample_rate > 384_000 {
            return bad(format!("sample rate {} Hz is out of range", self.sample_rate));
        }
        if self.channels == 0 || self.channels > 8 {
            return bad(format!("{} channels is out of range", self.channels));
        }
        if self.length_multiple == 0
            || self.window_length == 0
            || !self.window_length.is_multiple_of(self.length_multiple)
        {
            return bad(format!(
                "window length {} is not a multiple of the length multiple {}",
                self.window_length, self.length_multiple
            ));
        }
        if self.min_length > self.window_length {
            return bad("minimum length exceeds the window length".into());
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return bad("sha256 is not a 64-digit hex string".into());
        }
        Ok(())
    }

    pub fn info(&self) -> ModelInfo {
        ModelInfo {
            name: self.name.clone(),
            sample_rate: self.sample_rate,
            channels: self.channels,
            window_length: self.window_length,
            length_multiple: self.length_multiple,
            min_length: self.min_length.max(self.length_multiple),
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl ModelSource {
    /// Reads and verifies the manifest and the model bytes (hash included). Cheap for the embedded
    /// model; a file read for the others. Runs on the worker, never on the audio thread.
    pub fn load(&self) -> Result<LoadedModelFiles> {
        match self {
            ModelSource::Embedded => {
                let path = Path::new("<built-in>/manifest.json");
                let manifest = Manifest::parse(DEFAULT_MANIFEST, path)?;
                check_hash(&manifest, DEFAULT_ONNX, path)?;
                Ok(LoadedModelFiles { manifest, onnx: DEFAULT_ONNX.into(), origin: self.describe() })
            }
            ModelSource::Path(p) => {
                let manifest_path = if p.is_dir() { p.join("manifest.json") } else { p.clone() };
                let text = std::fs::read_to_string(&manifest_path).map_err(|e| EngineError::Manifest {
                    path: manifest_path.clone(),
                    reason: format!("cannot be read ({e})"),
                })?;
                let manifest = Manifest::parse(&text, &manifest_path)?;
                let onnx_path = manifest_path.parent().unwrap_or(Path::new(".")).join(&manifest.onnx);
                let bytes = std::fs::read(&onnx_path).map_err(|e| EngineError::ModelFile {
                    path: onnx_path.clone(),
                    reason: format!("cannot be read ({e})"),
                })?;
                check_hash(&manifest, &bytes, &onnx_path)?;
                Ok(LoadedModelFiles { manifest, onnx: bytes.into(), origin: manifest_path.display().to_string() })
            }
        }
    }
}

fn check_hash(manifest: &Manifest, bytes: &[u8], path: &Path) -> Result<()> {
    let actual = sha256_hex(bytes);
    if !actual.eq_ignore_ascii_case(&manifest.sha256) {
        return Err(EngineError::ModelFile {
            path: path.to_owned(),
            reason: format!(
                "is damaged or not the file the manifest describes (sha256 {actual}, manifest says {})",
                manifest.sha256
            ),
        });
    }
    Ok(())
}
