//! From a capture to an engine job: the source audio, the strength curve spread over it, the
//! settings and the mode.

use crate::boundary::{CaptureBuf, RenderChoice, STRENGTH_STRIDE_FRAMES};
use redance_engine::{Audio, JobSpec, Mode, ModeKind, RenderSettings, StrengthCurve};
use std::sync::Arc;

/// A captured source, as the bridge keeps it.
#[derive(Debug, Clone)]
pub struct Source {
    pub audio: Arc<Audio>,
    /// Timeline position of its first frame, at its own rate.
    pub start_pos: Option<i64>,
    /// Strength evenly spaced from the first frame to the last.
    pub strength: Vec<f32>,
}

impl Source {
    /// Copies a capture out of its pool buffer (which then goes back to the pool).
    pub fn from_capture(buf: &CaptureBuf) -> Result<Source, String> {
        let channels = buf.channels.iter().map(|c| c[..buf.frames].to_vec()).collect();
        let mut audio = Audio::new(buf.sample_rate, channels).map_err(|e| e.to_string())?;
        audio.sanitize();
        let points = &buf.strength[..buf.num_points.max(1)];
        Ok(Source { audio: Arc::new(audio), start_pos: buf.start_pos, strength: spread(points, buf.frames) })
    }
}

/// Points recorded every STRIDE frames → the same curve sampled evenly from the first frame to the
/// last, which is what [`StrengthCurve`] means.
pub fn spread(points: &[f32], frames: usize) -> Vec<f32> {
    if points.len() <= 1 || frames <= 1 {
        return vec![points.first().copied().unwrap_or(0.0)];
    }
    let n = points.len();
    (0..n)
        .map(|j| {
            let frame = j as f64 * (frames - 1) as f64 / (n - 1) as f64;
            let x = (frame / STRENGTH_STRIDE_FRAMES as f64).min((n - 1) as f64);
            let i = (x.floor() as usize).min(n - 2);
            let f = (x - i as f64) as f32;
            (points[i] * (1.0 - f) + points[i + 1] * f).clamp(0.0, 1.0)
        })
        .collect()
}

/// The job for `source` with `choice`; interpolation needs the previous take (`None`: falls back to
/// a variation, and says so).
pub fn spec(source: &Source, choice: &RenderChoice, previous: Option<Arc<Audio>>) -> (JobSpec, Option<&'static str>) {
    let mut note = None;
    let mode = match choice.mode {
        ModeKind::Variation => Mode::Variation,
        ModeKind::Generation => Mode::Generation,
        ModeKind::Interpolation => match previous {
            Some(other) => Mode::Interpolation { other, position: choice.position.clamp(0.0, 1.0) as f64 },
            None => {
                note = Some("no previous take to interpolate with: rendering a variation");
                Mode::Variation
            }
        },
    };
    let settings = RenderSettings {
        steps: choice.steps.max(1),
        sampler: choice.sampler,
        seed: choice.seed,
        match_level: choice.match_level,
        ..RenderSettings::default()
    };
    let spec = JobSpec {
        mode,
        source: source.audio.clone(),
        strength: StrengthCurve::from_points(source.strength.clone()),
        settings,
        noise: None,
    };
    (spec, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_keeps_ends() {
        let pts = [0.0, 0.5, 1.0];
        let s = spread(&pts, 2 * STRENGTH_STRIDE_FRAMES + 1);
        assert_eq!(s.len(), 3);
        assert!((s[0] - 0.0).abs() < 1e-6 && (s[2] - 1.0).abs() < 1e-6);
        assert_eq!(spread(&[0.3], 100), vec![0.3]);
    }
}
