//! Each sampler against an exact denoiser: with a perfect v-prediction, every sampler must land on
//! the clean audio, from any noise level, including pure noise (t = 1, where alpha = 0).

use redance_engine::denoiser::fake::{Oracle, info};
use redance_engine::noise::NoiseSource;
use redance_engine::sampler::{self, ModelFn, SamplerKind, Unobserved, reverse_ddim};
use redance_engine::schedule::{alpha_sigma, variation_times};

fn clean(frames: usize) -> Vec<f32> {
    (0..2 * frames).map(|i| (i as f32 * 0.013).sin() * 0.5 + (i as f32 * 0.0021).cos() * 0.3).collect()
}

fn run(kind: SamplerKind, strength: f64, steps: u32) -> (Vec<f32>, Vec<f32>, usize) {
    let frames = 256;
    let x0 = clean(frames);
    let mut oracle = Oracle { info: info(256), x0: x0.clone(), calls: 0 };
    let ts = variation_times(steps, strength);
    let mut noise = vec![0.0; x0.len()];
    NoiseSource::new(7, 0).fill(&mut noise);
    let (a, s) = alpha_sigma(ts[0]);
    let x: Vec<f32> = x0.iter().zip(&noise).map(|(c, n)| a as f32 * c + s as f32 * n).collect();
    let mut obs = Unobserved;
    let mut model = ModelFn::new(&mut oracle, &mut obs, frames);
    let out = sampler::sample(kind, &mut model, x, &ts, 0.0, &mut NoiseSource::new(1, 1)).unwrap();
    drop(model);
    (out, x0, oracle.calls)
}

fn max_err(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn every_sampler_recovers_clean_audio_with_an_exact_model() {
    for kind in SamplerKind::ALL {
        for strength in [0.3, 0.7, 1.0] {
            let (out, x0, calls) = run(kind, strength, 20);
            let err = max_err(&out, &x0);
            assert!(err < 2e-4, "{kind} at {strength}: max error {err}");
            assert_eq!(calls, variation_times(20, strength).len() - 1, "{kind}: one call per step");
        }
    }
}

#[test]
fn ddim_eta_adds_fresh_noise_but_still_converges_with_an_exact_model() {
    let frames = 128;
    let x0 = clean(frames);
    let mut oracle = Oracle { info: info(128), x0: x0.clone(), calls: 0 };
    let ts = variation_times(30, 0.8);
    let (a, s) = alpha_sigma(ts[0]);
    let mut n = vec![0.0; x0.len()];
    NoiseSource::new(3, 0).fill(&mut n);
    let x: Vec<f32> = x0.iter().zip(&n).map(|(c, e)| a as f32 * c + s as f32 * e).collect();
    let mut obs = Unobserved;
    let mut model = ModelFn::new(&mut oracle, &mut obs, frames);
    let out = sampler::ddim(&mut model, x, &ts, 1.0, &mut NoiseSource::new(9, 9)).unwrap();
    assert!(max_err(&out, &x0) < 1e-3);
}

#[test]
fn reverse_ddim_then_ddim_reconstructs_with_an_exact_model() {
    let frames = 128;
    let x0 = clean(frames);
    let mut oracle = Oracle { info: info(128), x0: x0.clone(), calls: 0 };
    let down = variation_times(25, 0.6);
    let up: Vec<f64> = down.iter().rev().copied().collect();
    let mut obs = Unobserved;
    let mut model = ModelFn::new(&mut oracle, &mut obs, frames);
    let z = reverse_ddim(&mut model, x0.clone(), &up).unwrap();
    let back = sampler::ddim(&mut model, z, &down, 0.0, &mut NoiseSource::new(0, 0)).unwrap();
    assert!(max_err(&back, &x0) < 1e-4);
}

#[test]
fn sampler_names_round_trip() {
    for kind in SamplerKind::ALL {
        assert_eq!(kind.name().parse::<SamplerKind>().unwrap(), kind);
    }
    assert!("euler".parse::<SamplerKind>().is_err());
}
