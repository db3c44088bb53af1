//! What crosses the thread boundary. Everything the audio thread sends or receives is either `Copy`
//! or a pre-allocated `Box` that only moves: pushing and popping never allocates. Requests from
//! non-audio threads ([`BridgeCommand`]) go through a channel and may allocate.

use super::capture_buf::CaptureBuf;
use super::rings::BridgeEnds;
use redance_engine::{ModeKind, SamplerKind};

/// The render settings as they stood when a capture completed or a render was asked for. No
/// `Default`: the defaults are the parameters' (`params.rs`), read through the parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderChoice {
    /// Diffusion steps (model calls per window, for most samplers).
    pub steps: u32,
    /// The sampler.
    pub sampler: SamplerKind,
    /// The noise seed.
    pub seed: u64,
    /// Variation, interpolation with the previous take, or generation.
    pub mode: ModeKind,
    /// Interpolation position between the capture (0) and the previous take (1).
    pub position: f32,
    /// Render as soon as a capture completes.
    pub auto_render: bool,
    /// Bring the take back to the source's loudness (the engine's `RenderSettings::match_level`).
    pub match_level: bool,
}

/// Audio thread → bridge.
#[derive(Debug)]
pub enum ToBridge {
    /// A completed capture; the bridge copies it out and returns the buffer to the pool.
    Captured {
        /// The pool buffer holding the capture.
        buf: Box<CaptureBuf>,
        /// The render settings when it completed.
        choice: RenderChoice,
    },
    /// Render the current source again with these settings.
    Render(RenderChoice),
    /// Keep the current take (a rising edge of the Keep parameter).
    Keep,
    /// Export the current take (a rising edge of the Export parameter).
    Export,
}

/// Where a take plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// At this timeline position (samples at the current rate), when the transport crosses it.
    At(i64),
    /// As soon as audio arrives (captured without a transport).
    Free,
}

/// Bridge → audio thread, in order. Sample data travels in a separate `f32` ring, interleaved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TakeMsg {
    /// A new take replaces the old one: `frames` long, placed so.
    Begin {
        /// The take's id (never 0).
        id: u64,
        /// The take's length in frames.
        frames: usize,
        /// Where it plays.
        placement: Placement,
    },
    /// The next `frames` frames of the take are in the sample ring (pushed before this message).
    Frames {
        /// Frames in the sample ring for this message.
        frames: usize,
    },
    /// No more audio for this take (finished, failed or cancelled).
    End,
}

/// Requests from non-audio threads (plugin, editor, tests) to the bridge thread.
pub enum BridgeCommand {
    /// A new activation's ring ends (the old ones are dropped).
    Attach(Box<BridgeEnds>),
    /// Deactivated: drop the ring ends.
    Detach,
    /// Render the current source with these settings.
    Render(RenderChoice),
    /// Keep the current take.
    Keep,
    /// Export the current take as a WAV file.
    Export,
    /// Play this take of the history instead of the current one (the editor's history list).
    SelectTake(u64),
    /// Stop the thread.
    Shutdown,
}
