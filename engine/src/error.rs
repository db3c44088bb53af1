//! One error type for everything the engine can refuse or fail at. Every variant's message is written
//! for the musician who will read it in a status line: what went wrong and, where there is one, the fix.

use std::path::PathBuf;

/// What went wrong, in the words of its message; a job failure crosses the engine boundary as one.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// No ONNX Runtime library where the search looked.
    #[error(
        "ONNX Runtime library not found (looked for {searched}). Run `cargo xtask fetch-ort`, set ORT_DYLIB_PATH, or pass --ort PATH"
    )]
    RuntimeMissing {
        /// Where the search looked, in words.
        searched: String,
    },
    /// A library was found but would not load.
    #[error("ONNX Runtime at {path} could not be loaded: {reason}")]
    RuntimeLoad {
        /// The library.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// A model's `manifest.json` is missing, damaged or promises something unsupported.
    #[error("model manifest {path}: {reason}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// A model's `.onnx` file is missing or does not match its checksum.
    #[error("model file {path}: {reason}")]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// The graph's inputs or outputs are not what Redance feeds.
    #[error("model {name} does not fit Redance: {reason}")]
    ModelShape {
        /// The model's name.
        name: String,
        /// Why, in words.
        reason: String,
    },
    /// CUDA was asked for and cannot be used.
    #[error("CUDA execution provider unavailable: {0}")]
    CudaUnavailable(String),
    /// A model call failed.
    #[error("inference failed: {0}")]
    Inference(String),
    /// The render server could not be reached, refused, or does not serve this model.
    #[error("render server {url}: {reason}")]
    Server {
        /// The server's address.
        url: String,
        /// What went wrong, in words.
        reason: String,
    },
    /// The job or a flag was refused.
    #[error("bad input: {0}")]
    Input(String),
    /// An audio file could not be read or written.
    #[error("audio file {path}: {reason}")]
    AudioFile {
        /// The file.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// Resampling failed.
    #[error("resampling failed: {0}")]
    Resample(String),
    /// The job was cancelled.
    #[error("render cancelled")]
    Cancelled,
    /// The engine's worker thread is gone.
    #[error("the render engine has stopped")]
    Stopped,
    /// A bug or a crash (a panic in the render), in words.
    #[error("internal error in the render: {0}")]
    Internal(String),
}

/// The engine's results.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
