//! How to run a model, as asked (provider, precision, optimisation, threads and memory levers for the
//! ONNX Runtime session) and as got (the provider the session ended up on).

use crate::error::{EngineError, Result};
use ort::session::builder::GraphOptimizationLevel;
use serde::{Deserialize, Serialize};

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderChoice {
    /// CUDA when the runtime and machine support it, else CPU.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// CUDA or an error saying why not.
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
    /// The fp32 graph everywhere.
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
    /// The CPU provider.
    Cpu,
    /// The CUDA provider.
    Cuda,
}

/// ONNX Runtime's graph optimisation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptLevel {
    /// No graph optimisation.
    Disable,
    /// Constant folding and redundant nodes.
    Basic,
    /// Also node fusions.
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
    /// ONNX Runtime's name for this level.
    pub(super) fn ort(self) -> GraphOptimizationLevel {
        match self {
            Self::Disable => GraphOptimizationLevel::Disable,
            Self::Basic => GraphOptimizationLevel::Level1,
            Self::Extended => GraphOptimizationLevel::Level2,
            Self::All => GraphOptimizationLevel::All,
        }
    }
}

/// How the ONNX Runtime session runs the model.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// CPU, CUDA or automatic.
    pub provider: ProviderChoice,
    /// Which graph (fp32 or fp16).
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
