//! One error type for everything the engine can refuse or fail at. Every variant's message is written
//! for the musician who will read it in a status line: what went wrong and, where there is one, the fix.

use std::path::PathBuf;

#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error(
        "ONNX Runtime library not found (looked for {searched}). Run `cargo xtask fetch-ort`, set ORT_DYLIB_PATH, or pass --ort PATH"
    )]
    RuntimeMissing { searched: String },
    #[error("ONNX Runtime at {path} could not be loaded: {reason}")]
    RuntimeLoad { path: PathBuf, reason: String },
    #[error("model manifest {path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("model file {path}: {reason}")]
    ModelFile { path: PathBuf, reason: String },
    #[error("model {name} does not fit Redance: {reason}")]
    ModelShape { name: String, reason: String },
    #[error("CUDA execution provider unavailable: {0}")]
    CudaUnavailable(String),
    #[error("inference failed: {0}")]
    Inference(String),
    #[error("bad input: {0}")]
    Input(String),
    #[error("audio file {path}: {reason}")]
    AudioFile { path: PathBuf, reason: String },
    #[error("resampling failed: {0}")]
    Resample(String),
    #[error("render cancelled")]
    Cancelled,
    /// The engine's worker thread is gone.
    #[error("the render engine has stopped")]
    Stopped,
    #[error("internal error in the render: {0}")]
    Internal(String),
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
