//! Redance's engine: Dance Diffusion on ONNX Runtime, with no plugin types.
//!
//! The data path, top to bottom: [`job::JobSpec`] (a capture and its settings) → [`job::render`]
//! (resample to the model rate, split into [`window`]s) → [`sampler`]s over the [`schedule`], calling a
//! [`denoiser::Denoiser`] (the ONNX [`model`] session) → crossfade → back to the host rate, streamed
//! window by window. The model runs in-process, or on a Triton server ([`backend::remote`]).
//! [`worker::Engine`] runs jobs on a background thread, shared by the process.

#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod audio;
pub mod backend;
pub mod denoiser;
pub mod error;
pub mod import;
pub mod job;
pub mod metrics;
pub mod model;
pub mod noise;
pub mod resample;
pub mod sampler;
pub mod schedule;
pub mod window;
pub mod worker;

pub use audio::Audio;
pub use error::{EngineError, Result};
pub use job::{JobSpec, Mode, ModeKind, RenderSettings, StrengthCurve};
pub use model::{ModelInfo, ModelSource, PrecisionChoice, ProviderChoice};
pub use sampler::SamplerKind;
pub use worker::{Engine, EngineConfig, JobEvent, JobHandle};
