//! What the engine is told to load: where to find ONNX Runtime, which model, how to run it; the
//! defaults adjusted by the environment.

use crate::backend::remote::ServerOptions;
use crate::model::{ModelSource, ProviderChoice, RuntimeSearch, SessionOptions};

/// What the engine loads and how it runs it.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Where to look for the ONNX Runtime library.
    pub runtime: RuntimeSearch,
    /// Which model.
    pub model: ModelSource,
    /// Execution provider, precision and threads for the session.
    pub session: SessionOptions,
    /// Render on this Triton server instead of in this process (`None`: this computer).
    pub server: Option<ServerOptions>,
}

impl EngineConfig {
    /// The built-in model on the CPU, with spinning threads: benchmarks, examples and tests.
    pub fn cpu() -> Self {
        Self {
            session: SessionOptions { provider: ProviderChoice::Cpu, allow_spinning: true, ..Default::default() },
            ..Default::default()
        }
    }

    /// Defaults, adjusted by `REDANCE_MODEL` (a model folder), `REDANCE_PROVIDER` (cpu|cuda|auto),
    /// `REDANCE_PRECISION` (auto|fp32|fp16), `REDANCE_THREADS` and `REDANCE_SERVER` (a Triton server's
    /// `http://host:port`; empty: this computer). `ORT_DYLIB_PATH` is read by the runtime search itself.
    pub fn from_env() -> Self {
        let mut config = Self::default();
        if let Some(p) = std::env::var_os("REDANCE_MODEL").filter(|p| !p.is_empty()) {
            config.model = ModelSource::Path(p.into());
        }
        if let Some(p) = std::env::var("REDANCE_PROVIDER").ok().and_then(|p| p.parse().ok()) {
            config.session.provider = p;
        }
        if let Some(p) = std::env::var("REDANCE_PRECISION").ok().and_then(|p| p.parse().ok()) {
            config.session.precision = p;
        }
        config.session.intra_threads = std::env::var("REDANCE_THREADS").ok().and_then(|t| t.parse().ok());
        match std::env::var("REDANCE_SERVER").ok().filter(|s| !s.trim().is_empty()).map(|s| ServerOptions::new(&s)) {
            Some(Ok(server)) => config.server = Some(server),
            Some(Err(e)) => tracing::warn!("REDANCE_SERVER ignored: {e}"),
            None => {}
        }
        config
    }
}
