//! What the host gave `activate`, and the longest capture every buffer is sized for.

/// The longest capture, in seconds at the host rate: 16 bars of 4/4 at 80 BPM, 32 at 160. Every
/// instance holds three buffers of this length (two captures, one take) per channel.
pub const MAX_CAPTURE_SECONDS: f32 = 48.0;

/// What the host gave `activate`; fixed for one activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostConfig {
    /// The host's sample rate, in Hz.
    pub sample_rate: f32,
    /// Channels of the main output (1 or 2), at least 1.
    pub num_channels: usize,
    /// The largest block `process` receives, in frames, at least 1.
    pub max_block: usize,
    /// [`MAX_CAPTURE_SECONDS`] in frames at `sample_rate`: the length of every capture and take buffer.
    pub max_capture_frames: usize,
}

impl HostConfig {
    /// The configuration for a host at `sample_rate` with `num_channels` and blocks up to `max_block`.
    pub fn new(sample_rate: f32, num_channels: usize, max_block: usize) -> Self {
        let max_capture_frames = (MAX_CAPTURE_SECONDS * sample_rate).ceil() as usize;
        Self { sample_rate, num_channels: num_channels.max(1), max_block: max_block.max(1), max_capture_frames }
    }
}
