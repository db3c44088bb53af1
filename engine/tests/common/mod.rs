#![allow(dead_code)]
//! Test audio and small helpers shared by the engine's tests.

use redance_engine::Audio;
use redance_engine::job::RenderObserver;

/// A stereo chord with a decaying envelope: musical enough to notice damage.
pub fn chord(rate: u32, frames: usize) -> Audio {
    let f = |hz: f32, i: usize| (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin();
    let env = |i: usize| 0.3 + 0.2 * (-((i % 12_000) as f32) / 4_000.0).exp();
    let l = (0..frames).map(|i| env(i) * (f(220.0, i) + 0.5 * f(277.2, i)) * 0.5).collect();
    let r = (0..frames).map(|i| env(i) * (f(329.6, i) + 0.5 * f(220.0, i)) * 0.5).collect();
    Audio::new(rate, vec![l, r]).unwrap()
}

pub fn max_abs_diff(a: &Audio, b: &Audio) -> f32 {
    a.channels
        .iter()
        .zip(&b.channels)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f32::max)
}

/// Collects what a render reports.
#[derive(Default)]
pub struct Recorder {
    pub windows: usize,
    pub calls_planned: usize,
    pub calls: usize,
    pub chunks: Vec<(usize, usize)>,
    pub cancel_after_calls: Option<usize>,
}

impl RenderObserver for Recorder {
    fn cancelled(&self) -> bool {
        self.cancel_after_calls.is_some_and(|n| self.calls >= n)
    }
    fn planned(&mut self, windows: usize, calls: usize) {
        self.windows = windows;
        self.calls_planned = calls;
    }
    fn call_done(&mut self) {
        self.calls += 1;
    }
    fn window_done(&mut self, _index: usize) {}
    fn chunk(&mut self, offset: usize, audio: Audio) {
        self.chunks.push((offset, audio.frames()));
    }
}
