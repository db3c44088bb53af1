//! Command-line flags.

use clap::{Parser, Subcommand, ValueEnum};
use redance_engine::{RenderSettings, SamplerKind};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "redance", version, about = "Dance Diffusion variations of audio files")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Render a variation, an interpolation or a generation to a WAV file.
    Render(RenderArgs),
    /// Import, list and remove Dance Diffusion models in your model folder.
    #[command(subcommand)]
    Model(ModelCommand),
}

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Convert a Dance Diffusion checkpoint (Harmonai .ckpt or diffusers folder) and install it.
    Import(ImportArgs),
    /// The models installed in your model folder.
    List,
    /// Delete an installed model.
    Remove {
        /// The model's name (as `model list` shows it).
        name: String,
    },
    /// Write a Triton Inference Server model repository entry for a model (config.pbtxt and the
    /// ONNX file), so a shared server renders for every Redance: `tritonserver --model-repository REPO`.
    ServeConfig(ServeConfigArgs),
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// An original Harmonai checkpoint (e.g. glitch-440k.ckpt) or a diffusers Dance Diffusion folder.
    pub source: PathBuf,
    /// Name to install it under (default: the public checkpoint's name, else the file's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Replace an installed model of the same name.
    #[arg(long)]
    pub force: bool,
    /// Install the converter's Python packages from this folder of wheels only (no internet).
    #[arg(long, value_name = "DIR")]
    pub wheels: Option<PathBuf>,
    /// Sample rate the model was trained at (checkpoints the table of public ones does not know).
    #[arg(long, value_name = "HZ")]
    pub rate: Option<u32>,
    /// Training window (sample_size) in frames (checkpoints the table does not know).
    #[arg(long, value_name = "FRAMES")]
    pub window: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TritonBackendArg {
    /// Triton's onnxruntime backend (NGC server images).
    Onnxruntime,
    /// Triton's Python backend running the file with the onnxruntime package (CPU; builds without
    /// the onnxruntime backend, such as PyPI's nvidia-pytriton).
    Python,
}

#[derive(clap::Args)]
pub struct ServeConfigArgs {
    /// An installed model's name, a model folder (manifest.json + .onnx), or `default` (built-in).
    pub name: String,
    /// The model repository to write into (REPO/MODEL-NAME/config.pbtxt, REPO/MODEL-NAME/1/model.onnx).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value = "onnxruntime")]
    pub backend: TritonBackendArg,
    /// CPU instances running the fp32 graph, instead of GPU instances running the fp16 variant.
    #[arg(long)]
    pub cpu: bool,
    /// Model instances (per GPU, or on the CPU).
    #[arg(long, default_value_t = 1)]
    pub instances: usize,
    /// Most render windows in one server-side model call.
    #[arg(long, default_value_t = redance_engine::backend::remote::repository::DEFAULT_MAX_BATCH)]
    pub max_batch: usize,
    /// Dynamic batching's longest wait for other requests, in microseconds.
    #[arg(long, default_value_t = redance_engine::backend::remote::repository::DEFAULT_QUEUE_DELAY_US)]
    pub queue_delay_us: u64,
    /// Serve each request alone (no dynamic batching).
    #[arg(long)]
    pub no_dynamic_batching: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Variation,
    Interpolate,
    Generate,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SamplerArg {
    Ddim,
    Iplms,
    #[value(name = "dpmpp-2m")]
    DpmPp2m,
}

impl SamplerArg {
    /// The engine's sampler.
    pub fn kind(self) -> SamplerKind {
        match self {
            SamplerArg::Ddim => SamplerKind::Ddim,
            SamplerArg::Iplms => SamplerKind::Iplms,
            SamplerArg::DpmPp2m => SamplerKind::DpmPp2m,
        }
    }

    /// The flag's value for an engine sampler (the default comes from the engine's settings).
    pub fn from_kind(kind: SamplerKind) -> Self {
        match kind {
            SamplerKind::Ddim => SamplerArg::Ddim,
            SamplerKind::Iplms => SamplerArg::Iplms,
            SamplerKind::DpmPp2m => SamplerArg::DpmPp2m,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ProviderArg {
    Auto,
    Cpu,
    Cuda,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PrecisionArg {
    Auto,
    Fp32,
    Fp16,
}

#[derive(clap::Args)]
pub struct RenderArgs {
    /// Source WAV (any rate, mono or stereo). Optional for --mode generate with --length.
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// Where to write the result (32-bit float WAV at the input's rate).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Model: an installed model's name (`redance model list`) or a folder (manifest.json + .onnx);
    /// default: the built-in model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "variation")]
    pub mode: ModeArg,
    /// Second source, for --mode interpolate.
    #[arg(long = "with")]
    pub with: Option<PathBuf>,
    /// Interpolation position: 0 = input, 1 = --with.
    #[arg(long, default_value_t = 0.5)]
    pub position: f64,
    /// Denoise strength: 0 returns the input, 1 generates anew.
    #[arg(long, default_value_t = 0.5)]
    pub strength: f32,
    /// Diffusion steps over the full schedule (a variation uses those below its strength).
    /// iPLMS at 20 lands within 41 dB of the converged render at a fifth of the notebook's calls.
    #[arg(long, default_value_t = RenderSettings::default().steps)]
    pub steps: u32,
    #[arg(long, value_enum, default_value_t = SamplerArg::from_kind(RenderSettings::default().sampler))]
    pub sampler: SamplerArg,
    /// Keep the level the model gives the render instead of bringing each window back to the
    /// source's loudness.
    #[arg(long)]
    pub keep_model_level: bool,
    /// DDIM eta: 0 deterministic, 1 ancestral.
    #[arg(long, default_value_t = 0.0)]
    pub eta: f64,
    #[arg(long, default_value_t = RenderSettings::default().seed)]
    pub seed: u64,
    /// Initial noise (float WAV at the model's rate) instead of the seeded draw.
    #[arg(long)]
    pub noise: Option<PathBuf>,
    /// Seconds to generate (--mode generate).
    #[arg(long)]
    pub length: Option<f64>,
    /// Render window in model samples (default: the model's trained window).
    #[arg(long)]
    pub window: Option<usize>,
    /// ONNX Runtime library (file or folder); default: ORT_DYLIB_PATH, beside redance, target/, system.
    #[arg(long)]
    pub ort: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    pub provider: ProviderArg,
    /// Model graph: auto = the fp16 variant on CUDA when the model has one, fp32 on the CPU.
    #[arg(long, value_enum, default_value = "auto")]
    pub precision: PrecisionArg,
    /// ONNX Runtime intra-op threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Render on this Triton server (`http://host:port`) instead of this computer; default: the
    /// REDANCE_SERVER environment variable, else this computer. `--server local` forces this computer.
    #[arg(long)]
    pub server: Option<String>,
    /// Also draw source and result (waveform and spectrogram) to this PNG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}
