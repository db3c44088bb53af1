//! Loudness matching: a variation comes back at its source's loudness. The model alone returns
//! renders a little quieter the higher the strength (about 3 dB at 0.6 with the default model), so
//! the audition in place would jump in level. Each window's render is scaled to its source window's
//! RMS before the crossfade, so the gain follows the music window by window and blends across
//! overlaps. Generation has no source to match; interpolation matches the blend of its two sources.

/// Largest correction either way: beyond it the render is a different sound, not a quieter one.
pub const MAX_GAIN_DB: f32 = 12.0;
/// Below this RMS (−80 dBFS) a window is silence: nothing to match, and no gain from noise.
pub const SILENCE_RMS: f32 = 1e-4;

/// RMS over all channels.
pub fn rms(planar: &[Vec<f32>]) -> f32 {
    let (sum, n) =
        planar.iter().flat_map(|c| c.iter()).fold((0.0f64, 0usize), |(s, n), &x| (s + (x as f64) * (x as f64), n + 1));
    if n == 0 { 0.0 } else { (sum / n as f64).sqrt() as f32 }
}

/// The gain that brings a render at `render_rms` to `target_rms`, within ±[`MAX_GAIN_DB`]; 1 when
/// either is silence.
pub fn gain(target_rms: f32, render_rms: f32) -> f32 {
    if !(target_rms >= SILENCE_RMS && render_rms >= SILENCE_RMS) {
        return 1.0;
    }
    let limit = 10f32.powf(MAX_GAIN_DB / 20.0);
    (target_rms / render_rms).clamp(1.0 / limit, limit)
}

/// Scales `render` to `target_rms`.
pub fn match_to(render: &mut [Vec<f32>], target_rms: f32) {
    let g = gain(target_rms, rms(render));
    if g != 1.0 {
        render.iter_mut().flat_map(|c| c.iter_mut()).for_each(|x| *x *= g);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quieter_render_comes_back_at_the_source_level() {
        let mut r = vec![vec![0.05f32, -0.05, 0.05, -0.05]; 2];
        match_to(&mut r, 0.1);
        assert!((rms(&r) - 0.1).abs() < 1e-6);
    }

    #[test]
    fn silence_and_huge_corrections_are_left_alone_or_bounded() {
        assert_eq!(gain(0.0, 0.1), 1.0);
        assert_eq!(gain(0.1, 0.0), 1.0);
        assert_eq!(gain(f32::NAN, 0.1), 1.0);
        let g = gain(1.0, 1e-3);
        assert!((20.0 * g.log10() - MAX_GAIN_DB).abs() < 1e-4);
    }
}
