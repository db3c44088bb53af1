//! Dance Diffusion's noise schedule. Time t runs from 0 (clean audio) to 1 (pure noise); the signal
//! scale is alpha = cos(t·π/2) and the noise scale sigma = sin(t·π/2), so alpha² + sigma² = 1.

use std::f64::consts::FRAC_PI_2;

/// (alpha, sigma) at time t.
pub fn alpha_sigma(t: f64) -> (f64, f64) {
    ((t * FRAC_PI_2).cos(), (t * FRAC_PI_2).sin())
}

/// The time at which the schedule has these scales.
pub fn alpha_sigma_to_t(alpha: f64, sigma: f64) -> f64 {
    sigma.atan2(alpha) / FRAC_PI_2
}

/// The "crash" schedule of the Dance Diffusion notebook: it spends more steps at low noise levels,
/// where audio detail is decided. `t' = atan2(σ², sqrt(1 − σ⁴))·2/π` with σ = sin(t·π/2).
pub fn crash(t: f64) -> f64 {
    let s = (t * FRAC_PI_2).sin().powi(2);
    alpha_sigma_to_t((1.0 - s * s).max(0.0).sqrt(), s)
}

/// `steps + 1` crash-schedule times for linspace(0, 1, steps + 1), ascending from 0 to 1.
pub fn crash_schedule(steps: u32) -> Vec<f64> {
    let steps = steps.max(1);
    (0..=steps).map(|i| crash(i as f64 / steps as f64)).collect()
}

/// The descending times a variation at `strength` samples through: the crash-schedule points below
/// the strength (all of them at strength ≥ 1, generation), largest first, ending at 0. One element
/// (just 0) means nothing to do: the source is returned as it is.
pub fn variation_times(steps: u32, strength: f64) -> Vec<f64> {
    let mut ts: Vec<f64> = if strength >= 1.0 {
        crash_schedule(steps)
    } else {
        crash_schedule(steps).into_iter().filter(|&t| t < strength || t == 0.0).collect()
    };
    ts.reverse();
    ts
}

/// Model calls a variation makes: one per time except the final 0.
pub fn model_calls(steps: u32, strength: f64) -> usize {
    variation_times(steps, strength).len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_sigma_on_unit_circle() {
        for i in 0..=20 {
            let (a, s) = alpha_sigma(i as f64 / 20.0);
            assert!((a * a + s * s - 1.0).abs() < 1e-12);
            assert!((alpha_sigma_to_t(a, s) - i as f64 / 20.0).abs() < 1e-12);
        }
    }
}
