//! The ONNX Runtime session that runs a model: execution provider choice (CUDA when asked for and
//! usable, else CPU, and why), thread counts, and the v-prediction call.

use super::{LoadedModelFiles, ModelInfo, ModelSource, Precision};
use crate::denoiser::Denoiser;
use crate::error::{EngineError, Result};
use ort::ep::ExecutionProvider;
use ort::session::Session;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::value::TensorRef;
use serde::{Deserialize, Serialize};

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderChoice {
    /// CUDA when the runtime and machine support it, else CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
}

impl std::str::FromStr for ProviderChoice {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            _ => Err(EngineError::Input(format!("unknown provider '{s}' (expected cpu, cuda or auto)"))),
        }
    }
}

/// Which graph of the model to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrecisionChoice {
    /// The fp16 variant on CUDA when the model has one; fp32 on the CPU, where the fp16 graph is
    /// slower (measured 1.1x on the default model: ONNX Runtime's x86 kernels convert to fp32).
    #[default]
    Auto,
    Fp32,
    /// The fp16 variant wherever the session runs (on the CPU: for checking its quality).
    Fp16,
}

impl std::str::FromStr for PrecisionChoice {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Self::Auto),
            "fp32" => Ok(Self::Fp32),
            "fp16" => Ok(Self::Fp16),
            _ => Err(EngineError::Input(format!("unknown precision '{s}' (expected auto, fp32 or fp16)"))),
        }
    }
}

/// What the session got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Provider {
    Cpu,
    Cuda,
}

/// ONNX Runtime's graph optimisation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptLevel {
    Disable,
    Basic,
    Extended,
    /// Everything, layout transforms included (the default).
    #[default]
    All,
}

impl std::str::FromStr for OptLevel {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "disable" | "none" => Ok(Self::Disable),
            "basic" => Ok(Self::Basic),
            "extended" => Ok(Self::Extended),
            "all" => Ok(Self::All),
            _ => Err(EngineError::Input(format!(
                "unknown optimisation level '{s}' (expected disable, basic, extended or all)"
            ))),
        }
    }
}

impl OptLevel {
    fn ort(self) -> GraphOptimizationLevel {
        match self {
            Self::Disable => GraphOptimizationLevel::Disable,
            Self::Basic => GraphOptimizationLevel::Level1,
            Self::Extended => GraphOptimizationLevel::Level2,
            Self::All => GraphOptimizationLevel::All,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub provider: ProviderChoice,
    pub precision: PrecisionChoice,
    /// Intra-op threads; `None` lets ONNX Runtime use one per physical core.
    pub intra_threads: Option<usize>,
    /// Let ONNX Runtime's idle threads spin. Off by default: inside a DAW, spinning threads steal
    /// the cores the host's audio threads need; the CLI turns it on.
    pub allow_spinning: bool,
    /// Graph optimisation level (measured: `all`, `extended` and `basic` run a call within noise of
    /// each other on this model; a saved optimised graph did not load faster than optimising again).
    pub optimization: OptLevel,
    /// ONNX Runtime's memory-pattern planning. Off by default: measured with
    /// `benches/engine_vs_pytorch.py`, off is as fast and peaks lower (full-size model at 65536:
    /// 2135 vs 2303 MiB; default model: 134 vs 152 MiB), and windows of other lengths re-plan.
    pub memory_pattern: bool,
    /// ONNX Runtime's CPU arena allocator (on by default).
    pub cpu_arena: bool,
    /// Most render windows sent to the model in one call when they share the same times (1: one
    /// window per call).
    pub max_batch: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            provider: ProviderChoice::default(),
            precision: PrecisionChoice::default(),
            intra_threads: None,
            allow_spinning: false,
            optimization: OptLevel::All,
            memory_pattern: false,
            cpu_arena: true,
            max_batch: 1,
        }
    }
}

pub struct OrtDenoiser {
    session: Session,
    info: ModelInfo,
    audio_name: String,
    t_name: String,
    output_name: String,
    provider: Provider,
    precision: Precision,
    /// Why CUDA (or the precision asked for) was not used, when it was asked for or allowed.
    provider_note: Option<String>,
    max_batch: usize,
}

impl OrtDenoiser {
    /// Picks the execution provider, then the model graph for it ([`PrecisionChoice`]), and builds
    /// the session. Needs the runtime loaded ([`super::RuntimeSearch::load`]). Returns the files'
    /// origin too, for the status line.
    pub fn load(source: &ModelSource, options: &SessionOptions) -> Result<(Self, String)> {
        let (builder, provider, provider_note) = Self::builder(options)?;
        let precision = match (options.precision, &provider) {
            (PrecisionChoice::Fp16, _) | (PrecisionChoice::Auto, Provider::Cuda) => Precision::Fp16,
            _ => Precision::Fp32,
        };
        let files = source.load_as(precision)?;
        let join = |a: Option<String>, b: Option<String>| match (a, b) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        };
        let note = join(provider_note.clone(), files.note.clone());
        match Self::commit(builder, &files, provider.clone(), note, options) {
            Ok(denoiser) => Ok((denoiser, files.origin)),
            // A variant chosen automatically must not cost the user the model: fall back to fp32.
            Err(e) if files.precision == Precision::Fp16 && options.precision == PrecisionChoice::Auto => {
                let (builder, provider, provider_note) = Self::builder(options)?;
                let files = source.load_as(Precision::Fp32)?;
                let note = join(provider_note, Some(format!("fp16 variant not used: {e}")));
                Ok((Self::commit(builder, &files, provider, note, options)?, files.origin))
            }
            Err(e) => Err(e),
        }
    }

    /// Builds the session for these files as they are (whatever their precision).
    pub fn new(files: &LoadedModelFiles, options: &SessionOptions) -> Result<Self> {
        let (builder, provider, provider_note) = Self::builder(options)?;
        Self::commit(builder, files, provider, provider_note, options)
    }

    fn builder(options: &SessionOptions) -> Result<(SessionBuilder, Provider, Option<String>)> {
        let env = super::runtime::environment()
            .ok_or_else(|| EngineError::Internal("ONNX Runtime environment not initialised".into()))?;
        let ort_err = |e: ort::Error<_>| EngineError::Inference(format!("cannot create the session: {e}"));
        let mut builder =
            Session::builder(env).map_err(|e| EngineError::Inference(format!("cannot create the session: {e}")))?;
        if let Some(n) = options.intra_threads {
            builder = builder.with_intra_threads(n.max(1)).map_err(ort_err)?;
        }
        builder = builder
            .with_intra_op_spinning(options.allow_spinning)
            .map_err(ort_err)?
            .with_memory_pattern(options.memory_pattern)
            .map_err(ort_err)?
            .with_optimization_level(options.optimization.ort())
            .map_err(ort_err)?;
        if !options.cpu_arena {
            ort::ep::CPU::default()
                .with_arena_allocator(false)
                .register(&mut builder)
                .map_err(|e| EngineError::Inference(format!("cannot create the session: {e}")))?;
        }
        let (provider, provider_note) = match options.provider {
            ProviderChoice::Cpu => (Provider::Cpu, None),
            ProviderChoice::Auto | ProviderChoice::Cuda => match register_cuda(&mut builder) {
                Ok(()) => (Provider::Cuda, None),
                Err(why) => (Provider::Cpu, Some(format!("CUDA not used: {why}"))),
            },
        };
        Ok((builder, provider, provider_note))
    }

    fn commit(
        mut builder: SessionBuilder,
        files: &LoadedModelFiles,
        provider: Provider,
        provider_note: Option<String>,
        options: &SessionOptions,
    ) -> Result<Self> {
        let manifest = &files.manifest;
        let session = builder.commit_from_memory(&files.onnx).map_err(|e| EngineError::ModelFile {
            path: files.origin.clone().into(),
            reason: format!("ONNX Runtime refused it ({e})"),
        })?;
        let denoiser = Self {
            info: manifest.info(),
            audio_name: manifest.inputs.audio.clone(),
            t_name: manifest.inputs.t.clone(),
            output_name: manifest.output.clone(),
            session,
            provider,
            precision: files.precision,
            provider_note,
            max_batch: options.max_batch.max(1),
        };
        denoiser.check_signature()?;
        Ok(denoiser)
    }

    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    pub fn provider_note(&self) -> Option<&str> {
        self.provider_note.as_deref()
    }

    /// The graph's inputs and output must be the ones the manifest names, with the expected ranks.
    fn check_signature(&self) -> Result<()> {
        let bad = |reason: String| Err(EngineError::ModelShape { name: self.info.name.clone(), reason });
        let rank = |outlets: &[ort::value::Outlet], name: &str| {
            outlets.iter().find(|o| o.name() == name).map(|o| o.dtype().tensor_shape().map_or(0, |s| s.len()))
        };
        let names = |outlets: &[ort::value::Outlet]| outlets.iter().map(|o| o.name().to_string()).collect::<Vec<_>>();
        match rank(self.session.inputs(), &self.audio_name) {
            Some(3) => {}
            Some(r) => {
                return bad(format!("input '{}' has rank {r}, expected [batch, channels, length]", self.audio_name));
            }
            None => return bad(format!("no input '{}' (inputs: {:?})", self.audio_name, names(self.session.inputs()))),
        }
        match rank(self.session.inputs(), &self.t_name) {
            Some(1) => {}
            Some(r) => return bad(format!("input '{}' has rank {r}, expected [batch]", self.t_name)),
            None => return bad(format!("no input '{}' (inputs: {:?})", self.t_name, names(self.session.inputs()))),
        }
        if rank(self.session.outputs(), &self.output_name) != Some(3) {
            return bad(format!(
                "no rank-3 output '{}' (outputs: {:?})",
                self.output_name,
                names(self.session.outputs())
            ));
        }
        Ok(())
    }
}

/// Registers CUDA so that failure is reported instead of silently running on CPU.
fn register_cuda(builder: &mut SessionBuilder) -> std::result::Result<(), String> {
    let cuda = ort::ep::CUDA::default();
    match ort::ep::CUDA::is_available() {
        Ok(true) => {}
        Ok(false) => {
            return Err(
                "this ONNX Runtime build has no CUDA support (fetch the GPU build: cargo xtask fetch-ort --gpu)".into(),
            );
        }
        Err(e) => return Err(format!("could not query ONNX Runtime for CUDA ({e})")),
    }
    cuda.register(builder).map_err(|e| format!("CUDA could not be initialised ({e})"))
}

impl Denoiser for OrtDenoiser {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn predict_v(&mut self, x: &[f32], t: &[f32], frames: usize, v: &mut [f32]) -> Result<()> {
        let batch = t.len();
        let channels = self.info.channels;
        debug_assert_eq!(x.len(), batch * channels * frames);
        let err = |e: ort::Error| EngineError::Inference(e.to_string());
        let audio = TensorRef::from_array_view(([batch, channels, frames], x)).map_err(err)?;
        let times = TensorRef::from_array_view(([batch], t)).map_err(err)?;
        let outputs = self
            .session
            .run(ort::inputs![self.audio_name.as_str() => audio, self.t_name.as_str() => times])
            .map_err(err)?;
        let (shape, data) = outputs[self.output_name.as_str()].try_extract_tensor::<f32>().map_err(err)?;
        if data.len() != v.len() {
            return Err(EngineError::ModelShape {
                name: self.info.name.clone(),
                reason: format!("output shape {shape:?} does not match the input [{batch}, {channels}, {frames}]"),
            });
        }
        v.copy_from_slice(data);
        Ok(())
    }

    fn max_batch(&self) -> usize {
        self.max_batch
    }

    fn device(&self) -> String {
        let device = match self.provider {
            Provider::Cpu => "CPU",
            Provider::Cuda => "CUDA",
        };
        match self.precision {
            Precision::Fp32 => device.into(),
            Precision::Fp16 => format!("{device} fp16"),
        }
    }
}
