//! What a job renders. Built by the plugin from a capture, or by the CLI from files.

use super::StrengthCurve;
use crate::audio::Audio;
use crate::error::{EngineError, Result};
use crate::sampler::SamplerKind;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What a job makes of its source.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Noise the source to the strength, then denoise it.
    Variation,
    /// Encode the source and `other` to noise (reverse DDIM), slerp at `position`, sample back.
    Interpolation {
        /// The second source (the previous take).
        other: Arc<Audio>,
        /// 0: the source, 1: `other`.
        position: f64,
    },
    /// From pure noise; the source only gives length, rate and channel count.
    Generation,
}

impl Mode {
    /// Which mode, without its data.
    pub fn kind(&self) -> ModeKind {
        match self {
            Mode::Variation => ModeKind::Variation,
            Mode::Interpolation { .. } => ModeKind::Interpolation,
            Mode::Generation => ModeKind::Generation,
        }
    }

    /// The mode's name in file names and saved takes.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }
}

/// A [`Mode`] without its data: `Copy`, so it can cross a real-time thread boundary in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModeKind {
    /// See [`Mode::Variation`].
    #[default]
    Variation,
    /// See [`Mode::Interpolation`].
    Interpolation,
    /// See [`Mode::Generation`].
    Generation,
}

impl ModeKind {
    /// Every mode, in the order a menu lists them.
    pub const ALL: [ModeKind; 3] = [ModeKind::Variation, ModeKind::Interpolation, ModeKind::Generation];

    /// The mode's name in file names and saved takes; the only place these names are written.
    pub fn name(self) -> &'static str {
        match self {
            ModeKind::Variation => "variation",
            ModeKind::Interpolation => "interpolation",
            ModeKind::Generation => "generation",
        }
    }

    /// The mode a saved name stands for (the inverse of [`ModeKind::name`]).
    pub fn from_name(name: &str) -> Option<ModeKind> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// How a job renders, whatever its mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderSettings {
    /// Diffusion steps over the full schedule (a variation uses those below its strength).
    pub steps: u32,
    /// The sampler.
    pub sampler: SamplerKind,
    /// DDIM's eta: 0 is deterministic, 1 is ancestral.
    pub eta: f64,
    /// The noise seed.
    pub seed: u64,
    /// Render window in model frames; `None` uses the model's trained window.
    pub window_length: Option<usize>,
    /// Overlap between windows in model frames; `None` uses 1/8 of the window.
    pub overlap: Option<usize>,
    /// Bring each window of a variation or interpolation back to its source's loudness (see
    /// [`super::level`]); off, the render keeps the level the model gives it.
    #[serde(default = "match_level_default")]
    pub match_level: bool,
}

fn match_level_default() -> bool {
    true
}

/// The product's defaults, for the plugin's parameters and the CLI alike: iPLMS at 20 steps lands
/// within 41 dB of the converged render at a fifth of the notebook's calls
/// (`cargo run --release -p redance-engine --example time_to_quality`).
impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            steps: 20,
            sampler: SamplerKind::Iplms,
            eta: 0.0,
            seed: 0,
            window_length: None,
            overlap: None,
            match_level: match_level_default(),
        }
    }
}

/// One render job: a source, a mode, a strength curve and the settings.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// Variation, interpolation or generation.
    pub mode: Mode,
    /// The captured audio (any rate and layout; the output has the same).
    pub source: Arc<Audio>,
    /// The strength along the source.
    pub strength: StrengthCurve,
    /// Steps, sampler, seed, windows.
    pub settings: RenderSettings,
    /// Initial noise at the model's rate instead of the seeded draw (for comparison with other
    /// implementations); must cover the whole model-rate input.
    pub noise: Option<Arc<Audio>>,
}

/// Most steps a job may ask for; more is a typo, not a wish.
pub const MAX_STEPS: u32 = 1000;

impl JobSpec {
    /// Refuses settings no render can use, in words, before any model is loaded.
    pub fn validate(&self) -> Result<()> {
        let spec = self;
        let s = &spec.settings;
        if spec.source.frames() == 0 {
            return Err(EngineError::Input("the source audio is empty".into()));
        }
        if !(1..=MAX_STEPS).contains(&s.steps) {
            return Err(EngineError::Input(format!("steps must be 1 to {MAX_STEPS}, not {}", s.steps)));
        }
        if !spec.strength.is_valid() {
            return Err(EngineError::Input("strength must be between 0 and 1".into()));
        }
        if !(0.0..=1.0).contains(&s.eta) {
            return Err(EngineError::Input(format!("eta must be between 0 and 1, not {}", s.eta)));
        }
        if let Mode::Interpolation { other, position } = &spec.mode {
            if !(0.0..=1.0).contains(position) {
                return Err(EngineError::Input(format!("position must be between 0 and 1, not {position}")));
            }
            if other.frames() == 0 {
                return Err(EngineError::Input("the second source is empty".into()));
            }
        }
        Ok(())
    }
}
