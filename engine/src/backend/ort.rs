//! The local backend: ONNX Runtime loaded into this process, running the configured model.

use super::Backend;
use crate::error::Result;
use crate::model::OrtDenoiser;
use crate::worker::EngineConfig;

/// Loads the ONNX Runtime library and the configured model.
pub fn ort_backend(config: &EngineConfig) -> Result<Backend> {
    let runtime = config.runtime.load()?;
    let (denoiser, origin) = OrtDenoiser::load(&config.model, &config.session)?;
    let provider_note = denoiser.provider_note().map(str::to_owned);
    Ok(Backend { denoiser: Box::new(denoiser), runtime: Some(runtime), origin, provider_note })
}
