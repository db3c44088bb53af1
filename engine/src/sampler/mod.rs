//! Samplers walk noisy audio down a list of times to t = 0 with a v-objective model.
//! Every sampler takes the descending times of [`crate::schedule::variation_times`] and returns the
//! clean prediction at t = 0. State is one item: `[channels][frames]` flattened.

mod ddim;
mod dpmpp;
mod iplms;

pub use ddim::{ddim, reverse_ddim};
pub use dpmpp::dpmpp_2m;
pub use iplms::iplms;

use crate::denoiser::Denoiser;
use crate::error::{EngineError, Result};
use crate::noise::NoiseSource;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which sampler a render uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SamplerKind {
    /// v-DDIM with eta; eta 0 is deterministic.
    #[default]
    Ddim,
    /// Improved pseudo-linear multistep, the original notebook's sampler.
    Iplms,
    /// DPM-Solver++(2M) on the model's denoised prediction.
    DpmPp2m,
}

impl SamplerKind {
    /// Every sampler, in the order a menu lists them.
    pub const ALL: [SamplerKind; 3] = [SamplerKind::Ddim, SamplerKind::Iplms, SamplerKind::DpmPp2m];

    /// The sampler's name in files, the CLI and saved takes.
    pub fn name(self) -> &'static str {
        match self {
            SamplerKind::Ddim => "ddim",
            SamplerKind::Iplms => "iplms",
            SamplerKind::DpmPp2m => "dpmpp-2m",
        }
    }
}

impl fmt::Display for SamplerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SamplerKind {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        SamplerKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| EngineError::Input(format!("unknown sampler '{s}' (expected ddim, iplms or dpmpp-2m)")))
    }
}

/// Told before and after every model call: the job checks for cancellation before, counts progress
/// after. Cancellation is therefore prompt to within one model call.
pub trait StepObserver {
    /// Before a model call: an error (cancelled) stops the job.
    fn before_call(&mut self) -> Result<()>;
    /// After a model call: count it.
    fn after_call(&mut self);
}

/// A model bound to one state's shape, with its output buffer allocated once. The state is one item,
/// or `batch` items (`[batch][channels][frames]`) that all sit at the same time: samplers work
/// element by element, so they step a batch exactly as they step one item.
pub struct ModelFn<'a> {
    denoiser: &'a mut dyn Denoiser,
    observer: &'a mut dyn StepObserver,
    frames: usize,
    batch: usize,
    t: Vec<f32>,
    v: Vec<f32>,
}

impl<'a> ModelFn<'a> {
    /// One item per call.
    pub fn new(denoiser: &'a mut dyn Denoiser, observer: &'a mut dyn StepObserver, frames: usize) -> Self {
        Self::batched(denoiser, observer, frames, 1)
    }

    /// `batch` items per call, all at the same time; each call counts as `batch` calls for progress.
    pub fn batched(
        denoiser: &'a mut dyn Denoiser,
        observer: &'a mut dyn StepObserver,
        frames: usize,
        batch: usize,
    ) -> Self {
        let batch = batch.max(1);
        let len = denoiser.info().channels * frames * batch;
        Self { denoiser, observer, frames, batch, t: vec![0.0; batch], v: vec![0.0; len] }
    }

    /// The model's v-prediction for `x` at time `t`.
    pub fn v(&mut self, x: &[f32], t: f64) -> Result<&[f32]> {
        self.observer.before_call()?;
        self.t.fill(t as f32);
        self.denoiser.predict_v(x, &self.t, self.frames, &mut self.v)?;
        for _ in 0..self.batch {
            self.observer.after_call();
        }
        if self.v.iter().any(|s| !s.is_finite()) {
            return Err(EngineError::Inference(format!("the model returned NaN or Inf at t = {t:.3}")));
        }
        Ok(&self.v)
    }
}

/// Runs `kind` from `x` (already noised to `ts[0]`) down the descending `ts` to 0.
pub fn sample(
    kind: SamplerKind,
    model: &mut ModelFn,
    x: Vec<f32>,
    ts: &[f64],
    eta: f64,
    noise: &mut NoiseSource,
) -> Result<Vec<f32>> {
    debug_assert!(ts.windows(2).all(|w| w[0] > w[1]), "times must descend");
    match kind {
        SamplerKind::Ddim => ddim(model, x, ts, eta, noise),
        SamplerKind::Iplms => iplms(model, x, ts),
        SamplerKind::DpmPp2m => dpmpp_2m(model, x, ts),
    }
}

/// No observation: used where nothing reports progress.
pub struct Unobserved;

impl StepObserver for Unobserved {
    fn before_call(&mut self) -> Result<()> {
        Ok(())
    }
    fn after_call(&mut self) {}
}
