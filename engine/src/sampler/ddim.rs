//! v-DDIM, forward (denoising) and reverse (encoding audio into noise, deterministic).

use super::ModelFn;
use crate::error::Result;
use crate::noise::NoiseSource;
use crate::schedule::alpha_sigma;

/// DDIM down the descending `ts`. At each time: pred = α·x − σ·v, eps = σ·x + α·v, then
/// x' = pred·α' + eps·σ'_adj (+ fresh noise·σ_ddim when eta > 0).
pub fn ddim(model: &mut ModelFn, mut x: Vec<f32>, ts: &[f64], eta: f64, noise: &mut NoiseSource) -> Result<Vec<f32>> {
    let mut fresh = if eta > 0.0 { vec![0.0; x.len()] } else { Vec::new() };
    for pair in ts.windows(2) {
        let (a, s) = alpha_sigma(pair[0]);
        let (a1, s1) = alpha_sigma(pair[1]);
        let v = model.v(&x, pair[0])?;
        let ddim_sigma = if eta > 0.0 && s > 0.0 && a1 > 0.0 {
            eta * (s1 * s1 / (s * s)).sqrt() * (1.0 - (a * a) / (a1 * a1)).max(0.0).sqrt()
        } else {
            0.0
        };
        let adjusted = (s1 * s1 - ddim_sigma * ddim_sigma).max(0.0).sqrt();
        let (a, s, a1, adj) = (a as f32, s as f32, a1 as f32, adjusted as f32);
        for (xi, &vi) in x.iter_mut().zip(v) {
            let pred = a * *xi - s * vi;
            let eps = s * *xi + a * vi;
            *xi = pred * a1 + eps * adj;
        }
        if ddim_sigma > 0.0 {
            noise.fill(&mut fresh);
            let g = ddim_sigma as f32;
            x.iter_mut().zip(&fresh).for_each(|(xi, n)| *xi += n * g);
        }
    }
    Ok(x)
}

/// Reverse DDIM up the ascending `ts` (from 0 to the target noise level): the deterministic
/// encoding that interpolation slerps between.
pub fn reverse_ddim(model: &mut ModelFn, mut x: Vec<f32>, ts: &[f64]) -> Result<Vec<f32>> {
    debug_assert!(ts.windows(2).all(|w| w[0] < w[1]), "times must ascend");
    for pair in ts.windows(2) {
        let (a, s) = alpha_sigma(pair[0]);
        let (a1, s1) = alpha_sigma(pair[1]);
        let v = model.v(&x, pair[0])?;
        let (a, s, a1, s1) = (a as f32, s as f32, a1 as f32, s1 as f32);
        for (xi, &vi) in x.iter_mut().zip(v) {
            let pred = a * *xi - s * vi;
            let eps = s * *xi + a * vi;
            *xi = pred * a1 + eps * s1;
        }
    }
    Ok(x)
}
