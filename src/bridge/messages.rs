//! What crosses the thread boundary. Everything the audio thread sends or receives is either `Copy`
//! or a pre-allocated `Box` that only moves: pushing and popping never allocates.

use crate::params::ModeChoice;
use redance_engine::SamplerKind;

/// The render settings as they stood when a capture completed or a render was asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderChoice {
    pub steps: u32,
    pub sampler: SamplerKind,
    pub seed: u64,
    pub mode: ModeChoice,
    pub position: f32,
    pub auto_render: bool,
}

impl Default for RenderChoice {
    fn default() -> Self {
        Self {
            steps: 30,
            sampler: SamplerKind::Ddim,
            seed: 0,
            mode: ModeChoice::Variation,
            position: 0.5,
            auto_render: true,
        }
    }
}

/// Strength is recorded once every this many captured frames.
pub const STRENGTH_STRIDE_FRAMES: usize = 256;

/// A capture buffer from the pool: sized in `activate` for the longest capture, filled by the audio
/// thread, read and handed back by the bridge.
#[derive(Debug)]
pub struct CaptureBuf {
    /// Planar audio, `max_frames` each; audio thread writes, bridge reads `[..frames]`.
    pub channels: Vec<Vec<f32>>,
    /// Frames captured; audio thread.
    pub frames: usize,
    /// Strength at frames 0, STRIDE, 2·STRIDE…; `[..num_points]` valid; audio thread.
    pub strength: Vec<f32>,
    pub num_points: usize,
    /// Host rate at capture; set in `activate`.
    pub sample_rate: u32,
    /// Timeline position of the first frame; `None` without a playing transport.
    pub start_pos: Option<i64>,
    /// The capture was cut to `max_frames`.
    pub truncated: bool,
    /// Settings at completion; audio thread.
    pub choice: RenderChoice,
}

impl CaptureBuf {
    /// Allocates and touches every page now, so the audio thread never page-faults on first write.
    pub fn new(num_channels: usize, max_frames: usize, sample_rate: u32) -> Box<Self> {
        let touched = |n: usize| {
            let mut v = vec![0.0f32; n];
            prefault(&mut v);
            v
        };
        Box::new(Self {
            channels: (0..num_channels).map(|_| touched(max_frames)).collect(),
            frames: 0,
            strength: touched(max_frames / STRENGTH_STRIDE_FRAMES + 2),
            num_points: 0,
            sample_rate,
            start_pos: None,
            truncated: false,
            choice: RenderChoice::default(),
        })
    }

    pub fn max_frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

/// Writes one value a page: `vec![0.0; n]` comes from calloc, whose pages the kernel maps lazily.
pub fn prefault(v: &mut [f32]) {
    for i in (0..v.len()).step_by(1024) {
        // SAFETY: `i < v.len()`; a volatile write cannot be elided as a store of a known zero.
        unsafe { std::ptr::write_volatile(v.as_mut_ptr().add(i), 0.0) };
    }
}

/// Audio thread → bridge.
#[derive(Debug)]
pub enum ToBridge {
    /// A completed capture; the bridge copies it out and returns the buffer to the pool.
    Captured(Box<CaptureBuf>),
    /// Render the current source again with these settings.
    Render(RenderChoice),
    Keep,
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
    Begin { id: u64, frames: usize, placement: Placement },
    /// The next `frames` frames of the take are in the sample ring (pushed before this message).
    Frames { frames: usize },
    /// No more audio for this take (finished, failed or cancelled).
    End,
}
