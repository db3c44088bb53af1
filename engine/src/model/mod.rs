//! A Dance Diffusion model: where it comes from, what its manifest promises, and the ONNX Runtime
//! session that runs it.

pub mod library;
mod manifest;
mod options;
mod runtime;
mod session;

pub use manifest::{LoadedModelFiles, Manifest, ModelSource, Precision, Variant, sha256_hex};
pub use options::{OptLevel, PrecisionChoice, Provider, ProviderChoice, SessionOptions};
pub use runtime::{Runtime, RuntimeSearch};
pub use session::OrtDenoiser;

use serde::{Deserialize, Serialize};

/// What the engine needs to know about a model to feed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The model's name.
    pub name: String,
    /// The rate the model was trained at; audio is resampled to it.
    pub sample_rate: u32,
    /// Channels the model takes.
    pub channels: usize,
    /// The trained chunk (`sample_size`): the default render window.
    pub window_length: usize,
    /// Every input length must be a multiple of this (2^number of downsamplings).
    pub length_multiple: usize,
    /// The shortest input the model takes.
    pub min_length: usize,
}

impl ModelInfo {
    /// The smallest valid model length ≥ `frames`.
    pub fn valid_length(&self, frames: usize) -> usize {
        let m = self.length_multiple.max(1);
        frames.max(self.min_length).div_ceil(m) * m
    }

    /// Whether the model takes an input of `frames`.
    pub fn is_valid_length(&self, frames: usize) -> bool {
        frames >= self.min_length && frames.is_multiple_of(self.length_multiple.max(1))
    }
}
