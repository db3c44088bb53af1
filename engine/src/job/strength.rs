//! Denoise strength along the audio: a constant, or a curve recorded from host automation.

use serde::{Deserialize, Serialize};

/// Strength values spread evenly from the first frame to the last. One point is a constant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrengthCurve {
    points: Vec<f32>,
}

impl StrengthCurve {
    /// The same strength everywhere (clamped to 0–1).
    pub fn constant(strength: f32) -> Self {
        Self { points: vec![strength] }
    }

    /// A curve from evenly spaced samples; empty input means strength 0.
    pub fn from_points(points: Vec<f32>) -> Self {
        if points.is_empty() { Self::constant(0.0) } else { Self { points } }
    }

    /// The points, evenly spaced from the first frame to the last.
    pub fn points(&self) -> &[f32] {
        &self.points
    }

    /// Every point is a number in [0, 1].
    pub fn is_valid(&self) -> bool {
        self.points.iter().all(|p| (0.0..=1.0).contains(p))
    }

    /// The value at `frac` ∈ [0, 1] of the audio, linearly interpolated.
    pub fn at(&self, frac: f64) -> f64 {
        let n = self.points.len();
        if n == 1 {
            return self.points[0] as f64;
        }
        let x = frac.clamp(0.0, 1.0) * (n - 1) as f64;
        let i = (x.floor() as usize).min(n - 2);
        let f = x - i as f64;
        self.points[i] as f64 * (1.0 - f) + self.points[i + 1] as f64 * f
    }

    /// The mean strength over the fraction range `[a, b]` of the audio: a window is rendered at the
    /// strength the automation held over it.
    pub fn mean(&self, a: f64, b: f64) -> f64 {
        if self.points.len() == 1 || b <= a {
            return self.at(a);
        }
        const SAMPLES: usize = 64;
        (0..SAMPLES).map(|k| self.at(a + (b - a) * (k as f64 + 0.5) / SAMPLES as f64)).sum::<f64>() / SAMPLES as f64
    }
}
