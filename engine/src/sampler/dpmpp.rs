//! DPM-Solver++(2M) on a v-model. The denoised estimate is D = α·x − σ·v; in log-SNR λ = ln(α/σ),
//! x' = (σ'/σ)·x − α'·expm1(−h)·D̂ with h = λ' − λ and D̂ the second-order combination of the last
//! two estimates (first order on the first step and on the last, which lands on σ' = 0).

use super::ModelFn;
use crate::error::Result;
use crate::schedule::alpha_sigma;

fn lambda(t: f64) -> f64 {
    let (a, s) = alpha_sigma(t);
    (a / s).ln()
}

/// DPM-Solver++(2M) from `x` over the times `ts` (descending); the denoised state.
pub fn dpmpp_2m(model: &mut ModelFn, mut x: Vec<f32>, ts: &[f64]) -> Result<Vec<f32>> {
    let mut denoised = vec![0.0f32; x.len()];
    let mut old_denoised: Option<Vec<f32>> = None;
    let mut h_last: Option<f64> = None;
    for pair in ts.windows(2) {
        let (a, s) = alpha_sigma(pair[0]);
        let (a1, s1) = alpha_sigma(pair[1]);
        let v = model.v(&x, pair[0])?;
        let (af, sf) = (a as f32, s as f32);
        for ((d, &xi), &vi) in denoised.iter_mut().zip(&x).zip(v) {
            *d = af * xi - sf * vi;
        }
        if s1 == 0.0 {
            // The last step lands on clean audio: x' = D.
            x.copy_from_slice(&denoised);
            break;
        }
        let h = lambda(pair[1]) - lambda(pair[0]);
        let ratio = (s1 / s) as f32;
        let gain = (-a1 * (-h).exp_m1()) as f32;
        match (&old_denoised, h_last) {
            (Some(old), Some(hl)) if hl.is_finite() => {
                let r = hl / h;
                let (c0, c1) = ((1.0 + 1.0 / (2.0 * r)) as f32, (1.0 / (2.0 * r)) as f32);
                for ((xi, &d), &o) in x.iter_mut().zip(&denoised).zip(old) {
                    *xi = ratio * *xi + gain * (c0 * d - c1 * o);
                }
            }
            _ => {
                for (xi, &d) in x.iter_mut().zip(&denoised) {
                    *xi = ratio * *xi + gain * d;
                }
            }
        }
        match &mut old_denoised {
            Some(old) => old.copy_from_slice(&denoised),
            None => old_denoised = Some(denoised.clone()),
        }
        h_last = Some(h);
    }
    Ok(x)
}
