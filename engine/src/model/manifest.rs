//! The JSON manifest that travels with every `.onnx`: rate, shapes, names and a content hash, so a
//! wrong or damaged file is refused with a clear message instead of producing noise.

use super::ModelInfo;
use crate::error::{EngineError, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The default model, embedded so that the plugin and CLI work with no files beside them.
const DEFAULT_MANIFEST: &str = include_str!("../../../models/default/manifest.json");
const DEFAULT_ONNX: &[u8] = include_bytes!("../../../models/default/model.onnx");
const DEFAULT_ONNX_FP16: &[u8] = include_bytes!("../../../models/default/model.fp16.onnx");

/// A model folder's `manifest.json`: what the model promises, checked before it is loaded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format version.
    pub format: u32,
    /// The model's name, as shown to the musician.
    pub name: String,
    /// A line about the model.
    #[serde(default)]
    pub description: String,
    /// The rate the model was trained at.
    pub sample_rate: u32,
    /// Channels the model takes.
    pub channels: usize,
    /// The trained chunk (`sample_size`).
    pub window_length: usize,
    /// Every input length is a multiple of this.
    pub length_multiple: usize,
    /// The shortest input the model takes.
    pub min_length: usize,
    /// The training objective; only `v` is run.
    pub objective: String,
    /// The graph's input names.
    pub inputs: InputNames,
    /// The graph's output name.
    pub output: String,
    /// The `.onnx` file, relative to the folder.
    pub onnx: String,
    /// The `.onnx` file's SHA-256, hex.
    pub sha256: String,
    /// Other graphs of the same model, by precision (`"fp16"`: models/convert_fp16.py).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, Variant>,
}

/// Another graph of the same model: same inputs, outputs and shapes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Variant {
    /// The variant's `.onnx` file, relative to the folder.
    pub onnx: String,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// The arithmetic a model graph computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats.
    Fp32,
    /// 16-bit floats (CUDA).
    Fp16,
}

impl Precision {
    fn variant_name(self) -> Option<&'static str> {
        match self {
            Precision::Fp32 => None,
            Precision::Fp16 => Some("fp16"),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::Fp32 => "fp32",
            Precision::Fp16 => "fp16",
        })
    }
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
    /// Name and origin, in words, for the status line.
    pub fn describe(&self) -> String {
        match self {
            ModelSource::Embedded => "built-in default model".into(),
            ModelSource::Path(p) => p.display().to_string(),
        }
    }
}

/// A manifest with its verified model bytes.
pub struct LoadedModelFiles {
    /// The checked manifest.
    pub manifest: Manifest,
    /// The graph's bytes (embedded, or read from the folder).
    pub onnx: std::borrow::Cow<'static, [u8]>,
    /// Shown to the user: where the model was read from.
    pub origin: String,
    /// Which graph `onnx` holds.
    pub precision: Precision,
    /// Why the precision asked for was not loaded, if it was not.
    pub note: Option<String>,
}

impl Manifest {
    /// Parses and checks a manifest read from `path` (for messages).
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
        let is_hex = |h: &str| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit());
        if !is_hex(&self.sha256) {
            return bad("sha256 is not a 64-digit hex string".into());
        }
        if let Some((name, _)) = self.variants.iter().find(|(_, v)| !is_hex(&v.sha256)) {
            return bad(format!("variant '{name}': sha256 is not a 64-digit hex string"));
        }
        Ok(())
    }

    /// What the engine needs to feed the model.
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

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl ModelSource {
    /// Reads and verifies the manifest and the fp32 model bytes (hash included).
    pub fn load(&self) -> Result<LoadedModelFiles> {
        self.load_as(Precision::Fp32)
    }

    /// Reads and verifies the manifest and the graph of the given precision; a model without that
    /// variant gives its main graph and a note saying so. Cheap for the embedded model; a file read
    /// for the others. Runs on the worker, never on the audio thread.
    pub fn load_as(&self, precision: Precision) -> Result<LoadedModelFiles> {
        let (manifest, manifest_path) = self.manifest()?;
        let variant = precision.variant_name().and_then(|name| manifest.variants.get(name));
        let (file, sha256, loaded) = match variant {
            Some(v) => (v.onnx.clone(), v.sha256.clone(), precision),
            None => (manifest.onnx.clone(), manifest.sha256.clone(), Precision::Fp32),
        };
        let note = (loaded != precision).then(|| {
            format!(
                "model '{}' has no {precision} variant (add one with models/convert_fp16.py); running {loaded}",
                manifest.name
            )
        });
        let onnx_path = manifest_path.parent().unwrap_or(Path::new(".")).join(&file);
        let (onnx, origin): (std::borrow::Cow<'static, [u8]>, String) = match self {
            ModelSource::Embedded => {
                let bytes = if loaded == Precision::Fp16 { DEFAULT_ONNX_FP16 } else { DEFAULT_ONNX };
                (bytes.into(), self.describe())
            }
            ModelSource::Path(_) => {
                let bytes = std::fs::read(&onnx_path).map_err(|e| EngineError::ModelFile {
                    path: onnx_path.clone(),
                    reason: format!("cannot be read ({e})"),
                })?;
                (bytes.into(), manifest_path.display().to_string())
            }
        };
        check_hash(&sha256, &onnx, &onnx_path)?;
        Ok(LoadedModelFiles { manifest, onnx, origin, precision: loaded, note })
    }

    /// The verified manifest and where it was read from.
    pub fn manifest(&self) -> Result<(Manifest, PathBuf)> {
        match self {
            ModelSource::Embedded => {
                let path = PathBuf::from("<built-in>/manifest.json");
                Ok((Manifest::parse(DEFAULT_MANIFEST, &path)?, path))
            }
            ModelSource::Path(p) => {
                let manifest_path = if p.is_dir() { p.join("manifest.json") } else { p.clone() };
                let text = std::fs::read_to_string(&manifest_path).map_err(|e| EngineError::Manifest {
                    path: manifest_path.clone(),
                    reason: format!("cannot be read ({e})"),
                })?;
                Ok((Manifest::parse(&text, &manifest_path)?, manifest_path))
            }
        }
    }
}

fn check_hash(expected: &str, bytes: &[u8], path: &Path) -> Result<()> {
    let actual = sha256_hex(bytes);
    if !actual.eq_ignore_ascii_case(expected) {
        return Err(EngineError::ModelFile {
            path: path.to_owned(),
            reason: format!(
                "is damaged or not the file the manifest describes (sha256 {actual}, manifest says {expected})"
            ),
        });
    }
    Ok(())
}
