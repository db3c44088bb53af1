//! Backends: what runs the model behind the engine. A backend is a [`Denoiser`] (the one call the
//! samplers make) plus what the status line says about it. The engine builds its backend lazily on
//! its worker thread through a [`BackendFactory`]; [`ort::ort_backend`] (ONNX Runtime in this process)
//! is the default, tests pass fakes, and a remote backend joins as a sibling of `ort.rs` whose factory
//! returns a `Backend` around a `Denoiser` that calls the server.

pub mod ort;

pub use crate::denoiser::Denoiser;
pub use ort::ort_backend;

use crate::error::Result;
use crate::model::Runtime;
use crate::worker::EngineConfig;

/// Builds the backend for a configuration, on the engine's thread (it may load libraries and files,
/// or connect); tests swap in fakes. A panic in it fails the jobs waiting for it, not the process.
pub type BackendFactory = Box<dyn Fn(&EngineConfig) -> Result<Backend> + Send>;

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
