//! Long audio in model-sized windows: where the windows go, and how neighbours are joined.
//!
//! Windows are spread evenly so every window is exactly the window length (no padding, full context)
//! and neighbours overlap by at least the requested overlap. Audio no longer than one window is one
//! model call of the smallest valid length.

use crate::model::ModelInfo;

/// One render window over the model-rate source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First frame (model rate) this window covers.
    pub start: usize,
    /// Length of the model call (a valid model length).
    pub len: usize,
    /// Frames of it that are real audio (the rest is padding).
    pub valid: usize,
}

impl Window {
    /// The first frame past the window.
    pub fn end(&self) -> usize {
        self.start + self.valid
    }
}

/// The windows that cover a source, overlapping for the crossfade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowPlan {
    /// Frames of the source covered.
    pub frames: usize,
    /// The windows, in order.
    pub windows: Vec<Window>,
}

impl WindowPlan {
    /// Windows of `window_len` frames, `overlap` apart at the joins, covering `frames`.
    pub fn new(frames: usize, info: &ModelInfo, window_len: usize, overlap: usize) -> WindowPlan {
        let window_len = info.valid_length(window_len);
        if frames <= window_len {
            let len = info.valid_length(frames);
            return WindowPlan { frames, windows: vec![Window { start: 0, len, valid: frames }] };
        }
        let overlap = overlap.min(window_len / 2);
        let hop = window_len - overlap;
        let count = (frames - overlap).div_ceil(hop).max(2);
        let span = (frames - window_len) as f64;
        let windows = (0..count)
            .map(|i| {
                let start = (i as f64 * span / (count - 1) as f64).round() as usize;
                Window { start, len: window_len, valid: window_len }
            })
            .collect();
        WindowPlan { frames, windows }
    }

    /// How many frames from the start are final once windows `0..=i` are done.
    pub fn final_after(&self, i: usize) -> usize {
        self.windows.get(i + 1).map_or(self.frames, |w| w.start)
    }
}

/// Writes window `i`'s result into `out`, crossfading with what the previous window left in the
/// overlap. The fade is equal-power (cos/sin), scaled by the measured correlation of the two renders
/// so correlated material (low strengths) keeps its level instead of bulging by up to 3 dB.
pub fn place(out: &mut [Vec<f32>], plan: &WindowPlan, i: usize, result: &[Vec<f32>]) {
    let w = plan.windows[i];
    let overlap_end = if i == 0 { w.start } else { plan.windows[i - 1].end().min(w.end()) };
    let fade_len = overlap_end - w.start;
    let rho = if fade_len > 0 { correlation(out, result, w.start, fade_len) } else { 0.0 };
    for (c, ch) in out.iter_mut().enumerate() {
        let r = &result[c];
        for k in 0..w.valid {
            let dst = &mut ch[w.start + k];
            if k < fade_len {
                let theta = (k as f64 + 0.5) / fade_len as f64 * std::f64::consts::FRAC_PI_2;
                let (g_in, g_out) = theta.sin_cos();
                let norm = 1.0 / (1.0 + 2.0 * rho * g_in * g_out).sqrt();
                *dst = ((g_out * *dst as f64 + g_in * r[k] as f64) * norm) as f32;
            } else {
                *dst = r[k];
            }
        }
    }
}

/// Pearson correlation of the overlap, clamped to [0, 1] (anti-correlated renders get a plain
/// equal-power fade).
fn correlation(prev: &[Vec<f32>], new: &[Vec<f32>], start: usize, len: usize) -> f64 {
    let (mut pp, mut nn, mut pn) = (0.0f64, 0.0f64, 0.0f64);
    for (p, n) in prev.iter().zip(new) {
        for k in 0..len {
            let (a, b) = (p[start + k] as f64, n[k] as f64);
            pp += a * a;
            nn += b * b;
            pn += a * b;
        }
    }
    if pp <= 0.0 || nn <= 0.0 { 0.0 } else { (pn / (pp * nn).sqrt()).clamp(0.0, 1.0) }
}
