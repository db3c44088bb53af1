//! The parameters, with ids that never change, and the per-block snapshot the audio thread uses.

use crate::boundary::RenderChoice;
use crate::rt::RtParams;
use crate::shared::Shared;
use crate::state::editor_layout::EditorLayout;
use crate::state::render_on::RenderOnField;
use crate::state::{SavedStatus, SavedTakes};
use nice_plug::prelude::*;
use parking_lot::RwLock;
use redance_engine::{ModeKind, RenderSettings, SamplerKind};
use std::sync::Arc;

/// Longest capture, in bars (or seconds without a tempo).
pub const MAX_LENGTH: i32 = 32;
/// Most diffusion steps the parameter allows.
pub const MAX_STEPS: i32 = 500;
/// Largest seed the parameter allows.
pub const MAX_SEED: i32 = 999_999;

/// When a capture starts.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOn {
    /// At the next bar line.
    #[id = "bar"]
    #[name = "Next bar"]
    NextBar,
    /// With the next block.
    #[id = "now"]
    #[name = "Immediately"]
    Immediately,
}

/// The Sampler parameter.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplerChoice {
    /// v-DDIM.
    #[id = "ddim"]
    #[name = "DDIM"]
    Ddim,
    /// Improved pseudo-linear multistep.
    #[id = "iplms"]
    #[name = "IPLMS"]
    Iplms,
    /// DPM-Solver++(2M).
    #[id = "dpmpp2m"]
    #[name = "DPM++ 2M"]
    DpmPp2m,
}

impl SamplerChoice {
    /// The engine's sampler.
    pub fn kind(self) -> SamplerKind {
        match self {
            SamplerChoice::Ddim => SamplerKind::Ddim,
            SamplerChoice::Iplms => SamplerKind::Iplms,
            SamplerChoice::DpmPp2m => SamplerKind::DpmPp2m,
        }
    }

    /// The parameter's value for an engine sampler.
    pub fn from_kind(kind: SamplerKind) -> Self {
        match kind {
            SamplerKind::Ddim => SamplerChoice::Ddim,
            SamplerKind::Iplms => SamplerChoice::Iplms,
            SamplerKind::DpmPp2m => SamplerChoice::DpmPp2m,
        }
    }
}

/// The Mode parameter.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeChoice {
    /// A variation of the capture.
    #[id = "variation"]
    #[name = "Variation"]
    Variation,
    /// Between the capture and the previous take.
    #[id = "interpolate"]
    #[name = "Interpolate with previous take"]
    Interpolate,
    /// From noise, as long as the capture.
    #[id = "generate"]
    #[name = "Generate"]
    Generate,
}

impl ModeChoice {
    /// The engine's mode this choice stands for.
    pub fn kind(self) -> ModeKind {
        match self {
            ModeChoice::Variation => ModeKind::Variation,
            ModeChoice::Interpolate => ModeKind::Interpolation,
            ModeChoice::Generate => ModeKind::Generation,
        }
    }
}

/// Every parameter and persisted field of an instance.
#[derive(Params)]
pub struct RedanceParams {
    /// The takes (source, take, history) as a small manifest referencing content-hashed files.
    #[persist = "takes"]
    pub saved: SavedTakes,

    /// The status line at save time, for readers of the saved project; never read back.
    #[persist = "status"]
    pub saved_status: SavedStatus,

    /// The editor's window size and scale.
    #[persist = "editor"]
    pub editor_layout: RwLock<EditorLayout>,

    /// Render on this computer or a server (applied by the bridge; see `state::render_on`).
    #[persist = "render_on"]
    pub render_on: RenderOnField,

    /// Rising edge arms a capture; automatable so the DAW can arm it on a bar.
    #[id = "capture"]
    pub capture: BoolParam,
    /// Capture length: bars at the host tempo, seconds without one.
    #[id = "length"]
    pub length: IntParam,
    /// Start on the next bar line or at once.
    #[id = "start_on"]
    pub start_on: EnumParam<StartOn>,
    /// Render as soon as a capture completes.
    #[id = "auto"]
    pub auto_render: BoolParam,
    /// Denoise strength; recorded along the capture, so not smoothed here.
    #[id = "strength"]
    pub strength: FloatParam,
    /// Diffusion steps.
    #[id = "steps"]
    pub steps: IntParam,
    /// The sampler.
    #[id = "sampler"]
    pub sampler: EnumParam<SamplerChoice>,
    /// The noise seed.
    #[id = "seed"]
    pub seed: IntParam,
    /// The take at the source's loudness, window by window (else the level the model gives it).
    #[id = "match_level"]
    pub match_level: BoolParam,
    /// Variation, interpolation or generation.
    #[id = "mode"]
    pub mode: EnumParam<ModeChoice>,
    /// Interpolation position between the capture (0) and the previous take (1).
    #[id = "position"]
    pub position: FloatParam,
    /// 1: the take replaces the input; 0: dry.
    #[id = "mix"]
    pub mix: FloatParam,
    /// Play the take on the bar grid instead of in place.
    #[id = "loop"]
    pub looping: BoolParam,
    /// Rising edges trigger a render of the current source, a Keep, an Export.
    #[id = "render"]
    pub render: BoolParam,
    /// See `render`.
    #[id = "keep"]
    pub keep: BoolParam,
    /// See `render`.
    #[id = "export"]
    pub export: BoolParam,
}

impl RedanceParams {
    /// The parameters at their defaults, the only place the plugin's defaults are written.
    pub fn new(shared: Arc<Shared>) -> Self {
        let render = RenderSettings::default();
        Self {
            saved: SavedTakes(shared.clone()),
            saved_status: SavedStatus(shared.clone()),
            render_on: RenderOnField(shared),
            editor_layout: RwLock::new(EditorLayout::default()),
            capture: BoolParam::new("Capture", false),
            length: IntParam::new("Length", 4, IntRange::Linear { min: 1, max: MAX_LENGTH }),
            start_on: EnumParam::new("Start on", StartOn::NextBar),
            auto_render: BoolParam::new("Auto render", true),
            strength: FloatParam::new("Strength", 0.5, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_value_to_string(formatters::v2s_f32_rounded(2)),
            // The engine's defaults (iPLMS at 20 steps, level matched): written once, there.
            steps: IntParam::new("Steps", render.steps as i32, IntRange::Linear { min: 1, max: MAX_STEPS }),
            sampler: EnumParam::new("Sampler", SamplerChoice::from_kind(render.sampler)),
            seed: IntParam::new("Seed", render.seed as i32, IntRange::Linear { min: 0, max: MAX_SEED }),
            match_level: BoolParam::new("Match level", render.match_level),
            mode: EnumParam::new("Mode", ModeChoice::Variation),
            position: FloatParam::new("Position", 0.5, FloatRange::Linear { min: 0.0, max: 1.0 }),
            mix: FloatParam::new("Mix", 1.0, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_unit(" %")
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage()),
            looping: BoolParam::new("Loop", false),
            render: BoolParam::new("Render", false),
            keep: BoolParam::new("Keep", false),
            export: BoolParam::new("Export", false),
        }
    }

    /// The render settings as they stand; any thread.
    pub fn render_choice(&self) -> RenderChoice {
        RenderChoice {
            steps: self.steps.value() as u32,
            sampler: self.sampler.value().kind(),
            seed: self.seed.value() as u64,
            mode: self.mode.value().kind(),
            position: self.position.value(),
            auto_render: self.auto_render.value(),
            match_level: self.match_level.value(),
        }
    }

    /// The per-block snapshot of a fresh instance: every parameter at the default declared in
    /// [`RedanceParams::new`], the only place the plugin's defaults are written (tests, benchmarks).
    pub fn default_rt_params() -> RtParams {
        RedanceParams::new(Arc::default()).rt_params()
    }

    /// The per-block snapshot for the audio thread: plain loads, no allocation.
    pub fn rt_params(&self) -> RtParams {
        RtParams {
            capture: self.capture.value(),
            length: self.length.value() as u32,
            start_on_bar: self.start_on.value() == StartOn::NextBar,
            strength: self.strength.value(),
            mix: self.mix.value(),
            looping: self.looping.value(),
            render: self.render.value(),
            keep: self.keep.value(),
            export: self.export.value(),
            choice: self.render_choice(),
        }
    }
}
