//! Spherical interpolation between two noise latents, as the Dance Diffusion notebook does: it keeps
//! the result on the shell where Gaussian noise lives, so the sample back stays in distribution.

pub fn slerp(low: &[f32], high: &[f32], p: f64) -> Vec<f32> {
    // The endpoints exactly, so p = 0 and p = 1 reproduce each source's reconstruction.
    if p <= 0.0 {
        return low.to_vec();
    }
    if p >= 1.0 {
        return high.to_vec();
    }
    let norm = |v: &[f32]| v.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
    let (nl, nh) = (norm(low), norm(high));
    let dot = if nl > 0.0 && nh > 0.0 {
        low.iter().zip(high).map(|(&a, &b)| a as f64 * b as f64).sum::<f64>() / (nl * nh)
    } else {
        1.0
    };
    let omega = dot.clamp(-1.0, 1.0).acos();
    let (wl, wh) = if omega.sin().abs() < 1e-6 {
        (1.0 - p, p)
    } else {
        (((1.0 - p) * omega).sin() / omega.sin(), (p * omega).sin() / omega.sin())
    };
    low.iter().zip(high).map(|(&a, &b)| (wl * a as f64 + wh * b as f64) as f32).collect()
}
