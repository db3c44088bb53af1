//! Backends: what runs the model behind the engine. A backend is a [`Denoiser`] (the one call the
//! samplers make) plus what the status line says about it. The engine builds its backend lazily on
//! its worker thread through a [`BackendFactory`]; [`ort::ort_backend`] (ONNX Runtime in this process)
//! runs by default, [`remote::remote_backend`] (a Triton server) when the configuration names a
//! server ([`default_backend`] picks), and tests pass fakes.

pub mod ort;
pub mod remote;

pub use crate::denoiser::Denoiser;
pub use ort::ort_backend;
pub use remote::remote_backend;

use crate::error::Result;
use crate::model::Runtime;
use crate::worker::EngineConfig;

/// Builds the backend for a configuration, on the engine's thread (it may load libraries and files,
/// or connect); tests swap in fakes. A panic in it fails the jobs waiting for it, not the process.
pub type BackendFactory = Box<dyn Fn(&EngineConfig) -> Result<Backend> + Send>;

/// The configured server's model when there is one, else ONNX Runtime in this process.
pub fn default_backend(config: &EngineConfig) -> Result<Backend> {
    match &config.server {
        Some(server) => remote_backend(config, server),
        None => ort_backend(config),
    }
}

/// A loaded backend, owned by the engine's worker thread.
pub struct Backend {
    /// Runs the model.
    pub denoiser: Box<dyn Denoiser>,
    /// The ONNX Runtime library in use, when the model runs in this process.
    pub runtime: Option<Runtime>,
    /// Where the model came from, in words.
    pub origin: String,
    /// Why CUDA was not used, when it could have been.
    pub provider_note: Option<String>,
}
