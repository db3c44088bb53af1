//! The ONNX Runtime session that runs a model: execution provider choice (CUDA when asked for and
//! usable, else CPU, and why), thread counts, and the v-prediction call. The options it is built
//! from are in `options.rs`.

use super::options::{PrecisionChoice, Provider, ProviderChoice, SessionOptions};
use super::{LoadedModelFiles, ModelInfo, ModelSource, Precision};
use crate::denoiser::Denoiser;
use crate::error::{EngineError, Result};
use ort::ep::ExecutionProvider;
use ort::session::Session;
use ort::session::builder::SessionBuilder;
use ort::value::TensorRef;

/// A model running in an ONNX Runtime session: the local backend's `Denoiser`.
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

    /// The provider the session got.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Why CUDA was not used, when it was asked for or possible.
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
