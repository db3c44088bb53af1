//! Improved pseudo-linear multistep (the original Dance Diffusion notebook's sampler): Adams–Bashforth
//! extrapolation of the noise prediction over up to four past steps, then a DDIM transfer.

use super::ModelFn;
use crate::error::Result;
use crate::schedule::alpha_sigma;

/// Improved pseudo-linear multistep from `x` over the times `ts` (descending); the denoised state.
pub fn iplms(model: &mut ModelFn, mut x: Vec<f32>, ts: &[f64]) -> Result<Vec<f32>> {
    // Past noise predictions, newest last; at most three are needed.
    let mut history: Vec<Vec<f32>> = Vec::with_capacity(4);
    let mut eps = vec![0.0f32; x.len()];
    for pair in ts.windows(2) {
        let (a, s) = alpha_sigma(pair[0]);
        let (a1, s1) = alpha_sigma(pair[1]);
        let v = model.v(&x, pair[0])?;
        let (af, sf) = (a as f32, s as f32);
        for ((e, &xi), &vi) in eps.iter_mut().zip(&x).zip(v) {
            *e = sf * xi + af * vi;
        }
        let n = history.len();
        let (a1, s1) = (a1 as f32, s1 as f32);
        for (i, xi) in x.iter_mut().enumerate() {
            let e = eps[i];
            let e_prime = match n {
                0 => e,
                1 => (3.0 * e - history[0][i]) / 2.0,
                2 => (23.0 * e - 16.0 * history[1][i] + 5.0 * history[0][i]) / 12.0,
                _ => (55.0 * e - 59.0 * history[n - 1][i] + 37.0 * history[n - 2][i] - 9.0 * history[n - 3][i]) / 24.0,
            };
            // With no history e' = e, and (x − σ·e)/α equals α·x − σ·v exactly; that form stays finite
            // at t = 1, where α = 0 (generation starts there).
            let pred = if n == 0 { af * *xi - sf * v[i] } else { (*xi - sf * e_prime) / af };
            *xi = pred * a1 + e_prime * s1;
        }
        if history.len() == 3 {
            let mut oldest = history.remove(0);
            oldest.copy_from_slice(&eps);
            history.push(oldest);
        } else {
            history.push(eps.clone());
        }
    }
    Ok(x)
}
