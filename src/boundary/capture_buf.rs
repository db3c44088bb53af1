//! The capture buffer: sized in `activate` for the longest capture, filled by the audio thread, read
//! and handed back by the bridge. Only the `Box` moves between threads: nothing is allocated there.

/// Strength is recorded once every this many captured frames.
pub const STRENGTH_STRIDE_FRAMES: usize = 256;

/// `f32`s in a 4 KiB memory page: [`prefault`] writes one of each.
const PAGE_FLOATS: usize = 4096 / std::mem::size_of::<f32>();

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
    /// Valid points in `strength`; audio thread.
    pub num_points: usize,
    /// Host rate at capture; set in `activate`.
    pub sample_rate: u32,
    /// Timeline position of the first frame; `None` without a playing transport.
    pub start_pos: Option<i64>,
    /// The capture was cut to `max_frames`.
    pub truncated: bool,
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
        })
    }

    /// The longest capture this buffer holds, in frames.
    pub fn max_frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

/// Writes one value a page: `vec![0.0; n]` comes from calloc, whose pages the kernel maps lazily.
pub fn prefault(v: &mut [f32]) {
    for i in (0..v.len()).step_by(PAGE_FLOATS) {
        // SAFETY: `i < v.len()`; a volatile write cannot be elided as a store of a known zero.
        unsafe { std::ptr::write_volatile(v.as_mut_ptr().add(i), 0.0) };
    }
}
