//! Whole jobs through `render` with fake models: identity, determinism, windows and crossfades,
//! resampling, interpolation endpoints, streaming, cancellation and bad input.

mod common;

use common::{Recorder, chord, max_abs_diff};
use redance_engine::denoiser::fake::{Failing, Oracle, Zero, info};
use redance_engine::job::render;
use redance_engine::metrics::snr_db;
use redance_engine::schedule::{alpha_sigma, variation_times};
use redance_engine::{Audio, EngineError, JobSpec, Mode, RenderSettings, SamplerKind, StrengthCurve};
use std::sync::Arc;

fn spec(source: Audio, strength: f32) -> JobSpec {
    JobSpec {
        mode: Mode::Variation,
        source: Arc::new(source),
        strength: StrengthCurve::constant(strength),
        settings: RenderSettings { match_level: false, steps: 10, sampler: SamplerKind::Ddim, ..Default::default() },
        noise: None,
    }
}

#[test]
fn strength_zero_is_the_source_bit_exact_even_across_windows() {
    for frames in [1000, 4096, 20_000] {
        let src = chord(48_000, frames);
        let mut model = Zero(info(4096));
        let out = render(&spec(src.clone(), 0.0), &mut model, &mut Recorder::default()).unwrap();
        assert_eq!(out, src, "{frames} frames");
    }
}

#[test]
fn mono_in_mono_out() {
    let mut src = chord(48_000, 3000);
    src.channels.truncate(1);
    let out = render(&spec(src.clone(), 0.0), &mut Zero(info(4096)), &mut Recorder::default()).unwrap();
    assert_eq!(out, src);
    let out = render(&spec(src, 0.5), &mut Zero(info(4096)), &mut Recorder::default()).unwrap();
    assert_eq!(out.num_channels(), 1);
}

#[test]
fn same_seed_same_output_other_seed_other_output() {
    let src = chord(48_000, 5000);
    let run = |seed| {
        let mut s = spec(src.clone(), 0.6);
        s.settings.seed = seed;
        render(&s, &mut Zero(info(4096)), &mut Recorder::default()).unwrap()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn one_window_input_at_model_rate_is_one_call_of_its_own_length() {
    let src = chord(48_000, 2048);
    let mut rec = Recorder::default();
    let mut model = Oracle { info: info(4096), x0: vec![0.0], calls: 0 };
    render(&spec(src, 1.0), &mut model, &mut rec).unwrap();
    assert_eq!(rec.windows, 1);
    assert_eq!(model.calls, 10);
}

#[test]
fn exact_model_recovers_the_source_in_one_window() {
    let src = chord(48_000, 4096);
    // The oracle knows the clean model input: the source, channel-major.
    let mut model = Oracle { info: info(4096), x0: src.channels.concat(), calls: 0 };
    for kind in SamplerKind::ALL {
        let mut s = spec(src.clone(), 0.8);
        s.settings.sampler = kind;
        let out = render(&s, &mut model, &mut Recorder::default()).unwrap();
        assert!(snr_db(&src, &out) > 60.0, "{kind}: {} dB", snr_db(&src, &out));
    }
}

/// With v = 0, DDIM is linear per sample: out = k·(α₀·src + σ₀·noise), k = Π cos(Δt·π/2). Every window
/// then computes the same function of position, so the windowed, crossfaded render must equal it
/// everywhere: this checks window placement, noise alignment and the crossfade gains together.
#[test]
fn long_audio_in_overlapping_windows_joins_seamlessly() {
    let frames = 23_456;
    let src = chord(48_000, frames);
    let noise = Audio::new(48_000, redance_engine::noise::NoiseSource::new(5, 5).planar(2, frames)).unwrap();
    let mut s = spec(src.clone(), 0.7);
    s.noise = Some(Arc::new(noise.clone()));
    let mut rec = Recorder::default();
    let out = render(&s, &mut Zero(info(4096)), &mut rec).unwrap();
    assert!(rec.windows >= 6, "{} windows", rec.windows);

    let ts = variation_times(10, 0.7);
    let (a0, s0) = alpha_sigma(ts[0]);
    let k: f64 = ts.windows(2).map(|w| ((w[0] - w[1]) * std::f64::consts::FRAC_PI_2).cos()).product();
    let expected = Audio::new(
        48_000,
        (0..2)
            .map(|c| {
                (0..frames)
                    .map(|i| (k * (a0 * src.channels[c][i] as f64 + s0 * noise.channels[c][i] as f64)) as f32)
                    .collect()
            })
            .collect(),
    )
    .unwrap();
    let err = max_abs_diff(&expected, &out);
    assert!(err < 1e-4, "max error {err}");
    // Streamed chunks tile the output in order.
    let mut next = 0;
    for (offset, len) in &rec.chunks {
        assert_eq!(*offset, next);
        next += len;
    }
    assert_eq!(next, frames);
    assert!(rec.chunks.len() >= rec.windows, "one chunk per window at least");
}

/// A ramp 0 → 1: the first window is rendered at strength 0 (the source, exactly), the last at 1
/// (with the zero model the closed form k·(α₀·src + σ₀·noise) of `long_audio_…` at t₀ = 1), and the
/// number of calls lies between. A constant strength, or one strength for every window, fails these.
#[test]
fn strength_curve_gives_each_window_its_own_strength() {
    let frames = 16_384;
    let src = chord(48_000, frames);
    let noise = Audio::new(48_000, redance_engine::noise::NoiseSource::new(3, 3).planar(2, frames)).unwrap();
    let mut s = spec(src.clone(), 0.0);
    s.strength = StrengthCurve::from_points(vec![0.0, 0.0, 1.0, 1.0]);
    s.noise = Some(Arc::new(noise.clone()));
    let mut rec = Recorder::default();
    let out = render(&s, &mut Zero(info(4096)), &mut rec).unwrap();
    assert!(rec.calls_planned > 10 && rec.calls_planned < 10 * rec.windows, "{} calls", rec.calls_planned);
    let ts = variation_times(10, 1.0);
    let (a0, s0) = alpha_sigma(ts[0]);
    let k: f64 = ts.windows(2).map(|w| ((w[0] - w[1]) * std::f64::consts::FRAC_PI_2).cos()).product();
    for c in 0..2 {
        let head = (0..1_000).map(|i| (out.channels[c][i] - src.channels[c][i]).abs()).fold(0.0f32, f32::max);
        assert!(head < 1e-6, "the first window is not at strength 0 (off the source by {head})");
        let tail = (15_384..frames)
            .map(|i| {
                let expect = k * (a0 * src.channels[c][i] as f64 + s0 * noise.channels[c][i] as f64);
                (out.channels[c][i] as f64 - expect).abs()
            })
            .fold(0.0f64, f64::max);
        assert!(tail < 1e-4, "the last window is not at strength 1 (off by {tail})");
        // In between, neither the source nor the strength-1 render.
        let mid = 8_000..8_200;
        let off = mid.clone().map(|i| (out.channels[c][i] - src.channels[c][i]).abs()).fold(0.0f32, f32::max);
        let off1 = mid
            .map(|i| {
                (out.channels[c][i] as f64 - k * (a0 * src.channels[c][i] as f64 + s0 * noise.channels[c][i] as f64))
                    .abs()
            })
            .fold(0.0f64, f64::max);
        assert!(off > 1e-2 && off1 > 1e-2, "the middle is at one of the ends ({off}, {off1})");
    }
}

#[test]
fn resampling_44k1_round_trip_keeps_the_audio() {
    let src = chord(44_100, 30_000);
    let out = render(&spec(src.clone(), 0.0), &mut Zero(info(8192)), &mut Recorder::default()).unwrap();
    assert_eq!(out.sample_rate, 44_100);
    assert_eq!(out.frames(), src.frames());
    // 44.1 → 48 → 44.1 kHz: the body survives to within the resampler's accuracy.
    let body = |a: &Audio| Audio::new(44_100, a.channels.iter().map(|c| c[2000..28_000].to_vec()).collect()).unwrap();
    let snr = snr_db(&body(&src), &body(&out));
    assert!(snr > 50.0, "round trip SNR {snr} dB");
}

#[test]
fn resample_changes_rate_and_length() {
    let src = chord(48_000, 48_000);
    let out = redance_engine::resample::resample(&src, 44_100).unwrap();
    assert_eq!(out.frames(), 44_100);
    let back = redance_engine::resample::resample(&out, 48_000).unwrap();
    assert_eq!(back.frames(), 48_000);
}

#[test]
fn interpolation_endpoints_reproduce_each_sources_reconstruction() {
    let a = chord(48_000, 4096);
    let mut b = chord(48_000, 4096);
    b.channels.reverse();
    let interp = |x: &Audio, y: &Audio, p: f64| {
        let mut s = spec(x.clone(), 0.5);
        s.mode = Mode::Interpolation { other: Arc::new(y.clone()), position: p };
        render(&s, &mut Zero(info(4096)), &mut Recorder::default()).unwrap()
    };
    // The reconstruction of A is the interpolation of A with itself.
    let recon_a = interp(&a, &a, 0.5);
    let recon_b = interp(&b, &b, 0.5);
    assert_eq!(interp(&a, &b, 0.0), recon_a);
    assert_eq!(interp(&a, &b, 1.0), recon_b);
    let mid = interp(&a, &b, 0.5);
    assert_ne!(mid, recon_a);
    assert_ne!(mid, recon_b);
}

/// The exact denoiser for audio that is either `a` or `b`: the posterior mean of the clean signal
/// given x_t, a softmax over the two (the nearest one when σ = 0). Unlike an oracle that knows one
/// answer, it lands on A or B depending on where the interpolation starts.
struct TwoPoints {
    info: redance_engine::ModelInfo,
    a: Vec<f32>,
    b: Vec<f32>,
}

impl redance_engine::denoiser::Denoiser for TwoPoints {
    fn info(&self) -> &redance_engine::ModelInfo {
        &self.info
    }
    fn predict_v(&mut self, x: &[f32], t: &[f32], _frames: usize, v: &mut [f32]) -> redance_engine::Result<()> {
        let item = x.len() / t.len();
        assert_eq!(item, self.a.len());
        for (k, &tk) in t.iter().enumerate() {
            let (al, sg) = alpha_sigma(tk as f64);
            let x = &x[k * item..(k + 1) * item];
            let dist = |p: &[f32]| x.iter().zip(p).map(|(&xi, &pi)| (xi as f64 - al * pi as f64).powi(2)).sum::<f64>();
            let (da, db) = (dist(&self.a), dist(&self.b));
            let wa = if sg < 1e-7 {
                if da <= db { 1.0 } else { 0.0 }
            } else {
                1.0 / (1.0 + ((da - db) / (2.0 * sg * sg)).exp())
            };
            for i in 0..item {
                let x0 = wa * self.a[i] as f64 + (1.0 - wa) * self.b[i] as f64;
                let xi = x[i] as f64;
                v[k * item + i] = (if sg > 1e-7 { al * (xi - al * x0) / sg - sg * x0 } else { -x0 * sg }) as f32;
            }
        }
        Ok(())
    }
}

#[test]
fn interpolation_with_an_exact_model_reconstructs_the_source_at_each_end() {
    let a = chord(48_000, 4096);
    let mut b = chord(48_000, 4096);
    b.channels.reverse();
    for (position, expected, other) in [(0.0, &a, &b), (1.0, &b, &a)] {
        let mut s = spec(a.clone(), 0.6);
        s.settings.steps = 40;
        s.mode = Mode::Interpolation { other: Arc::new(b.clone()), position };
        let mut model = TwoPoints { info: info(4096), a: a.channels.concat(), b: b.channels.concat() };
        let out = render(&s, &mut model, &mut Recorder::default()).unwrap();
        let (good, bad) = (snr_db(expected, &out), snr_db(other, &out));
        assert!(
            good > 60.0 && bad < 10.0,
            "position {position}: {good:.1} dB from its source, {bad:.1} dB from the other"
        );
    }
}

#[test]
fn generation_ignores_the_source_content() {
    let mut s = spec(Audio::silent(48_000, 2, 5000), 0.0);
    s.mode = Mode::Generation;
    let mut rec = Recorder::default();
    let out = render(&s, &mut Zero(info(4096)), &mut rec).unwrap();
    assert_eq!(out.frames(), 5000);
    assert_eq!(rec.calls_planned, 10 * rec.windows);
}

#[test]
fn cancellation_stops_between_model_calls() {
    let mut rec = Recorder { cancel_after_calls: Some(3), ..Default::default() };
    let err = render(&spec(chord(48_000, 20_000), 1.0), &mut Zero(info(4096)), &mut rec).unwrap_err();
    assert!(matches!(err, EngineError::Cancelled));
    assert_eq!(rec.calls, 3);
}

#[test]
fn a_failing_model_fails_the_job_with_its_message() {
    let err = render(&spec(chord(48_000, 2000), 0.5), &mut Failing(info(4096)), &mut Recorder::default()).unwrap_err();
    assert!(err.to_string().contains("always fails"), "{err}");
}

#[test]
fn non_finite_input_never_reaches_the_model_or_the_output() {
    let mut src = chord(48_000, 3000);
    src.channels[0][10] = f32::NAN;
    src.channels[1][20] = f32::INFINITY;
    let out = render(&spec(src, 0.5), &mut Zero(info(4096)), &mut Recorder::default()).unwrap();
    assert!(out.first_non_finite().is_none());
}

#[test]
fn bad_settings_are_refused_in_words() {
    let src = chord(48_000, 1000);
    let cases: Vec<(JobSpec, &str)> = vec![
        (
            {
                let mut s = spec(src.clone(), 0.5);
                s.settings.steps = 0;
                s
            },
            "steps",
        ),
        (
            {
                let mut s = spec(src.clone(), 0.5);
                s.strength = StrengthCurve::constant(1.5);
                s
            },
            "strength",
        ),
        (
            {
                let mut s = spec(src.clone(), 0.5);
                s.settings.eta = -1.0;
                s
            },
            "eta",
        ),
        (spec(Audio::silent(48_000, 2, 0), 0.5), "empty"),
        (
            {
                let mut s = spec(src.clone(), 0.5);
                s.mode = Mode::Interpolation { other: Arc::new(src.clone()), position: 2.0 };
                s
            },
            "position",
        ),
        (
            {
                let mut s = spec(src.clone(), 0.5);
                s.noise = Some(Arc::new(Audio::silent(48_000, 2, 10)));
                s
            },
            "noise",
        ),
        (
            {
                let mut s = spec(src.clone(), 0.5);
                s.noise = Some(Arc::new(Audio::silent(44_100, 2, 4096)));
                s
            },
            "noise",
        ),
    ];
    for (s, word) in cases {
        let err = render(&s, &mut Zero(info(4096)), &mut Recorder::default()).unwrap_err();
        assert!(matches!(err, EngineError::Input(_)), "{err}");
        assert!(err.to_string().contains(word), "'{err}' should mention {word}");
    }
}

/// A deterministic, non-linear model (each output sample depends on its own input and time) that
/// accepts `batch` items per call and records the batch sizes it was given.
struct Batching {
    info: redance_engine::ModelInfo,
    batch: usize,
    seen: Vec<usize>,
}

impl redance_engine::denoiser::Denoiser for Batching {
    fn info(&self) -> &redance_engine::ModelInfo {
        &self.info
    }
    fn predict_v(&mut self, x: &[f32], t: &[f32], _frames: usize, v: &mut [f32]) -> redance_engine::Result<()> {
        self.seen.push(t.len());
        let item = x.len() / t.len();
        for (i, (vi, xi)) in v.iter_mut().zip(x).enumerate() {
            *vi = (xi * 1.7).tanh() * t[i / item] + 0.01 * ((i % item) as f32 * 0.001).sin();
        }
        Ok(())
    }
    fn max_batch(&self) -> usize {
        self.batch
    }
}

#[test]
fn windows_with_the_same_times_share_calls_and_give_the_same_audio() {
    let src = chord(48_000, 20_000);
    for sampler in SamplerKind::ALL {
        let mut s = spec(src.clone(), 0.7);
        s.settings.sampler = sampler;
        let run = |batch| {
            let mut model = Batching { info: info(4096), batch, seen: Vec::new() };
            let mut rec = Recorder::default();
            let out = render(&s, &mut model, &mut rec).unwrap();
            (out, model.seen, rec)
        };
        let (one, seen1, rec1) = run(1);
        let (four, seen4, rec4) = run(4);
        assert!(seen1.iter().all(|&b| b == 1));
        assert_eq!(seen4.iter().sum::<usize>(), seen1.len(), "{sampler}: same work in fewer calls");
        assert!(seen4.iter().all(|&b| b > 1) && seen4.len() < seen1.len(), "{sampler}: {seen4:?}");
        assert!(max_abs_diff(&one, &four) < 1e-6, "{sampler}: batched output differs");
        assert_eq!(rec1.calls, rec4.calls, "{sampler}: progress counts every window's call");
        assert_eq!(rec1.calls, rec1.calls_planned);
        assert_eq!(rec1.chunks.iter().map(|c| c.1).sum::<usize>(), src.frames());
        assert_eq!(rec4.chunks.iter().map(|c| c.1).sum::<usize>(), src.frames());
    }
    // DDIM with eta draws fresh noise per window: never batched, so seeds keep their meaning.
    let mut s = spec(src.clone(), 0.7);
    s.settings.eta = 0.5;
    let mut model = Batching { info: info(4096), batch: 4, seen: Vec::new() };
    render(&s, &mut model, &mut Recorder::default()).unwrap();
    assert!(model.seen.iter().all(|&b| b == 1));
}

fn rms_db(a: &Audio) -> f64 {
    let (s, n) = a.channels.iter().flatten().fold((0.0f64, 0usize), |(s, n), &x| (s + (x as f64).powi(2), n + 1));
    10.0 * (s / n as f64).log10()
}

/// The zero model returns a variation at another level than its source (it keeps the noise, shrunk);
/// level matching brings it back to the source's loudness, leaves strength 0 bit-exact, and leaves
/// generation (no source to match) as the model made it.
#[test]
fn a_variation_comes_back_at_the_source_loudness_unless_asked_not_to() {
    let src = chord(48_000, 3000);
    let mut s = spec(src.clone(), 0.3);
    let raw = render(&s, &mut Zero(info(4096)), &mut Recorder::default()).unwrap();
    let raw_off = rms_db(&raw) - rms_db(&src);
    assert!(raw_off.abs() > 1.0, "the zero model keeps the level ({raw_off:+.2} dB): nothing to test");
    s.settings.match_level = true;
    let matched = render(&s, &mut Zero(info(4096)), &mut Recorder::default()).unwrap();
    let off = rms_db(&matched) - rms_db(&src);
    assert!(off.abs() < 0.01, "matched render is {off:+.3} dB off the source");

    let mut zero = spec(src.clone(), 0.0);
    zero.settings.match_level = true;
    assert_eq!(render(&zero, &mut Zero(info(4096)), &mut Recorder::default()).unwrap(), src);

    let mut g = spec(src, 1.0);
    g.mode = Mode::Generation;
    let plain = render(&g, &mut Zero(info(4096)), &mut Recorder::default()).unwrap();
    g.settings.match_level = true;
    assert_eq!(render(&g, &mut Zero(info(4096)), &mut Recorder::default()).unwrap(), plain);
}
