//! The real thing: ONNX Runtime (fetched by `cargo xtask fetch-ort`) running the built-in model.
//! The model must really denoise, match the Python reference implementation, and refuse broken files.

mod common;

use redance_engine::backend::Backend;
use redance_engine::denoiser::fake::Zero;
use redance_engine::metrics::{log_spectral_distance_db, snr_db};
use redance_engine::model::{ModelSource, OrtDenoiser, PrecisionChoice, ProviderChoice, RuntimeSearch, SessionOptions};
use redance_engine::{Audio, Engine, EngineConfig, JobSpec, Mode, RenderSettings, SamplerKind, StrengthCurve};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn cpu_engine() -> Engine {
    Engine::new(EngineConfig::cpu())
}

/// The baseline a real model must beat: the same engine and settings with a model that predicts
/// v = 0 (it has learnt nothing: each step only rescales its input, so the noise stays in).
fn zero_engine() -> Engine {
    let info = ModelSource::Embedded.load().unwrap().manifest.info();
    Engine::with_backend(
        EngineConfig::cpu(),
        Box::new(move |_| {
            Ok(Backend {
                denoiser: Box::new(Zero(info.clone())),
                runtime: None,
                origin: "zero".into(),
                provider_note: None,
            })
        }),
    )
}

fn variation(engine: &Engine, source: &Audio, strength: f32, steps: u32, sampler: SamplerKind) -> Audio {
    let spec = JobSpec {
        mode: Mode::Variation,
        source: Arc::new(source.clone()),
        strength: StrengthCurve::constant(strength),
        settings: RenderSettings { match_level: false, steps, sampler, seed: 1, ..Default::default() },
        noise: None,
    };
    (*engine.submit(0, spec).wait().expect("render")).clone()
}

/// The first `frames` of the example clip.
fn example(frames: usize) -> Audio {
    let clip = Audio::read_wav(&repo("examples/clip.wav")).unwrap();
    Audio::new(clip.sample_rate, clip.channels.iter().map(|c| c[..frames.min(c.len())].to_vec()).collect()).unwrap()
}

/// Compared with baselines computed here, not with numbers of one particular model: the model that
/// predicts zero (same engine, same seed and noise) and the source itself.
#[test]
fn the_default_model_really_denoises() {
    let (engine, zero) = (cpu_engine(), zero_engine());
    let source = example(48_000);
    let mut snr = Vec::new();
    for strength in [0.2, 0.9] {
        let real = variation(&engine, &source, strength, 20, SamplerKind::Ddim);
        let base = variation(&zero, &source, strength, 20, SamplerKind::Ddim);
        let (s_real, s_zero) = (snr_db(&source, &real), snr_db(&source, &base));
        let (lsd_real, lsd_zero) = (
            log_spectral_distance_db(&source, &real, 2048, 8192),
            log_spectral_distance_db(&source, &base, 2048, 8192),
        );
        println!(
            "strength {strength}: SNR vs source {s_real:.2} dB (zero model {s_zero:.2} dB), \
             log-spectral distance {lsd_real:.2} dB (zero model {lsd_zero:.2} dB)"
        );
        // It removes the noise the zero model leaves in: much closer to the source in level and in spectrum.
        assert!(
            s_real > s_zero + 6.0,
            "strength {strength}: {s_real:.2} dB is no better than predicting zero ({s_zero:.2} dB)"
        );
        assert!(lsd_real < lsd_zero, "strength {strength}: spectrum no closer than the zero model's");
        snr.push(s_real);
    }
    // ... and it renders something: not the source back.
    assert!(snr[0] < 40.0, "strength 0.2 returned the source ({:.1} dB)", snr[0]);
    assert!(snr[0] > snr[1] + 3.0, "0.2 must be clearly closer to the source than 0.9");
    let status = engine.status();
    assert_eq!(status.device.as_deref(), Some("CPU"));
    assert!(status.runtime.unwrap().path.to_string_lossy().contains("onnxruntime"));
}

#[test]
fn every_sampler_runs_on_the_real_model() {
    let (engine, zero) = (cpu_engine(), zero_engine());
    let source = example(16_384);
    for kind in SamplerKind::ALL {
        let out = variation(&engine, &source, 0.5, 8, kind);
        assert!(out.first_non_finite().is_none(), "{kind}");
        let snr = snr_db(&source, &out);
        let base = snr_db(&source, &variation(&zero, &source, 0.5, 8, kind));
        println!("{kind}: SNR vs source {snr:.2} dB (zero model {base:.2} dB)");
        assert!(
            snr > base + 6.0,
            "{kind}: a half-strength variation no better than predicting zero ({snr:.1} vs {base:.1} dB)"
        );
        assert!(snr < 40.0, "{kind}: the output is the source ({snr:.1} dB)");
    }
}

/// The Python reference (models/reference_sample.py: NumPy + onnxruntime, the notebook's DDIM) and
/// the engine, from the same noise, must agree.
#[test]
fn matches_the_python_reference_implementation() {
    let dir = repo("tests/fixtures/ddim_reference");
    let params: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("params.json")).unwrap()).unwrap();
    let source = Audio::read_wav(&dir.join("source.wav")).unwrap();
    let noise = Audio::read_wav(&dir.join("noise.wav")).unwrap();
    let expected = Audio::read_wav(&dir.join("expected.wav")).unwrap();
    let spec = JobSpec {
        mode: Mode::Variation,
        source: Arc::new(source),
        strength: StrengthCurve::constant(params["strength"].as_f64().unwrap() as f32),
        settings: RenderSettings {
            match_level: false,
            steps: params["steps"].as_u64().unwrap() as u32,
            sampler: SamplerKind::Ddim,
            ..Default::default()
        },
        noise: Some(Arc::new(noise)),
    };
    let out = cpu_engine().submit(0, spec).wait().unwrap();
    let err = common::max_abs_diff(&expected, &out);
    println!("max |engine − reference| = {err:.2e}");
    // Measured: 0.0 (the same graph, the same float operations). A numerics bound, not a quality
    // one: the fp16 graph, another sampler or a shifted noise is off by 1e-3 or more.
    assert!(err <= 1e-5, "max abs difference {err}");
}

#[test]
fn the_fp16_variant_renders_within_the_samplers_own_error() {
    // Auto precision keeps fp32 on the CPU (the fp16 graph is slower there); asking for fp16 runs
    // the variant, here so its quality can be checked without a GPU.
    let fp32 = cpu_engine();
    let mut config = EngineConfig::cpu();
    config.session.precision = PrecisionChoice::Fp16;
    let fp16 = Engine::new(config);
    let source = example(96_000);
    let (a, b) = (
        variation(&fp32, &source, 0.5, 20, SamplerKind::Iplms),
        variation(&fp16, &source, 0.5, 20, SamplerKind::Iplms),
    );
    assert_eq!(fp32.status().device.as_deref(), Some("CPU"));
    assert_eq!(fp16.status().device.as_deref(), Some("CPU fp16"));
    let snr = snr_db(&a, &b);
    println!("fp16 vs fp32, same seed, iPLMS 20, strength 0.5: SNR {snr:.1} dB");
    // iPLMS-20 itself is 41 dB from the converged render (examples/time_to_quality.rs).
    assert!(snr > 41.0, "fp16 costs more than the sampler's own error: {snr:.1} dB");
}

fn copy_default_model(dir: &Path, edit: impl Fn(&mut serde_json::Value), onnx: Option<&[u8]>) {
    let files = ModelSource::Embedded.load().unwrap();
    let bytes = onnx.map_or_else(|| files.onnx.to_vec(), <[u8]>::to_vec);
    let mut m = serde_json::to_value(&files.manifest).unwrap();
    m["sha256"] = redance_engine::model::sha256_hex(&bytes).into();
    edit(&mut m);
    std::fs::write(dir.join("model.onnx"), bytes).unwrap();
    std::fs::write(dir.join("manifest.json"), m.to_string()).unwrap();
}

fn session_error(dir: &Path) -> String {
    RuntimeSearch::default().load().unwrap();
    let files = ModelSource::Path(dir.to_owned()).load().unwrap();
    match OrtDenoiser::new(
        &files,
        &SessionOptions {
            provider: ProviderChoice::Cpu,
            intra_threads: Some(1),
            allow_spinning: false,
            ..Default::default()
        },
    ) {
        Ok(_) => panic!("should be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn wrong_input_names_are_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    copy_default_model(dir.path(), |m| m["inputs"]["audio"] = "x".into(), None);
    let err = session_error(dir.path());
    assert!(err.contains("no input 'x'"), "{err}");
}

#[test]
fn a_corrupt_model_with_a_matching_hash_is_refused_by_the_runtime() {
    let dir = tempfile::tempdir().unwrap();
    copy_default_model(dir.path(), |_| {}, Some(b"\x08\x07garbage that is not a protobuf graph"));
    let err = session_error(dir.path());
    assert!(err.contains("ONNX Runtime refused it"), "{err}");
}

/// Interpolation with the real model: each end reconstructs its own source (and not the other), the
/// middle is neither. Judged against the other source and the ends themselves, not fixed numbers.
#[test]
fn interpolation_with_the_real_model() {
    let engine = cpu_engine();
    let clip = Audio::read_wav(&repo("examples/clip.wav")).unwrap();
    let part = |from: usize| {
        Audio::new(clip.sample_rate, clip.channels.iter().map(|c| c[from..from + 32_768].to_vec()).collect()).unwrap()
    };
    let (a, b) = (part(0), part(clip.frames() - 32_768));
    let interp = |p: f64| {
        let spec = JobSpec {
            mode: Mode::Interpolation { other: Arc::new(b.clone()), position: p },
            source: Arc::new(a.clone()),
            strength: StrengthCurve::constant(0.5),
            settings: RenderSettings {
                match_level: false,
                steps: 20,
                sampler: SamplerKind::Ddim,
                seed: 1,
                ..Default::default()
            },
            noise: None,
        };
        (*engine.submit(0, spec).wait().expect("interpolation")).clone()
    };
    let (start, mid, end) = (interp(0.0), interp(0.5), interp(1.0));
    let (sa, sb) = (snr_db(&a, &start), snr_db(&b, &start));
    let (ea, eb) = (snr_db(&a, &end), snr_db(&b, &end));
    let (ma, mb) = (snr_db(&a, &mid), snr_db(&b, &mid));
    println!(
        "position 0: SNR vs A {sa:.1} dB, vs B {sb:.1} dB; 1: vs A {ea:.1}, vs B {eb:.1}; 0.5: vs A {ma:.1}, vs B {mb:.1}"
    );
    println!("SNR A vs B {:.1} dB", snr_db(&a, &b));
    assert!(sa > sb + 6.0, "position 0 does not reconstruct A");
    assert!(eb > ea + 6.0, "position 1 does not reconstruct B");
    assert!(ma < sa - 6.0 && mb < eb - 6.0, "the middle is one of the ends");
    let (m0, m1) = (snr_db(&start, &mid), snr_db(&end, &mid));
    println!("the middle vs the ends: {m0:.1} dB, {m1:.1} dB");
    assert!(m0 < 20.0 && m1 < 20.0, "the middle is one of the ends ({m0:.1}, {m1:.1} dB)");
}

/// The outside reference for the other samplers and for windows (tests/fixtures/sampler_reference/
/// make.py: NumPy + onnxruntime, written from the algorithms, no Rust code): iPLMS and DPM++ 2M in one
/// window, and DDIM over three windows joined by the compensated crossfade, from the same noise.
#[test]
fn matches_the_outside_reference_for_iplms_dpmpp_and_windows() {
    let dir = repo("tests/fixtures/sampler_reference");
    let params: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("params.json")).unwrap()).unwrap();
    let source = Audio::read_wav(&dir.join("source.wav")).unwrap();
    let noise = Audio::read_wav(&dir.join("noise.wav")).unwrap();
    let head =
        |a: &Audio, n: usize| Audio::new(a.sample_rate, a.channels.iter().map(|c| c[..n].to_vec()).collect()).unwrap();
    let engine = cpu_engine();
    for (name, sampler) in
        [("iplms", SamplerKind::Iplms), ("dpmpp", SamplerKind::DpmPp2m), ("windowed", SamplerKind::Ddim)]
    {
        let case = &params["cases"][name];
        let frames = case["frames"].as_u64().unwrap() as usize;
        let expected = Audio::read_wav(&dir.join(format!("expected_{name}.wav"))).unwrap();
        let spec = JobSpec {
            mode: Mode::Variation,
            source: Arc::new(head(&source, frames)),
            strength: StrengthCurve::constant(case["strength"].as_f64().unwrap() as f32),
            settings: RenderSettings {
                match_level: false,
                steps: case["steps"].as_u64().unwrap() as u32,
                sampler,
                window_length: case["window"].as_u64().map(|w| w as usize),
                overlap: case["overlap"].as_u64().map(|w| w as usize),
                ..Default::default()
            },
            noise: Some(Arc::new(head(&noise, frames))),
        };
        let out = engine.submit(0, spec).wait().unwrap();
        let err = common::max_abs_diff(&expected, &out);
        println!("{name}: max |engine − reference| = {err:.2e}");
        // A numerics bound (float32 arithmetic in another order, libm vs NumPy trigonometry).
        assert!(err <= 1e-5, "{name}: max abs difference {err}");
    }
}

/// 44.1 kHz through the model's 48 kHz: the outside reference resamples by FFT where the engine
/// uses rubato's sinc filter, so the body (away from the ends, where the two filters differ most) is
/// compared at a bound on the resamplers' difference; a take one frame off, or the source rendered
/// as if it were at 48 kHz, is much further away.
#[test]
fn matches_the_outside_reference_at_44k1() {
    let dir = repo("tests/fixtures/sampler_reference");
    let params: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("params.json")).unwrap()).unwrap();
    let case = &params["cases"]["44k1"];
    let source = Audio::read_wav(&dir.join("source_44k1.wav")).unwrap();
    let noise = Audio::read_wav(&dir.join("noise.wav")).unwrap();
    let expected = Audio::read_wav(&dir.join("expected_44k1.wav")).unwrap();
    assert_eq!((source.sample_rate, source.frames()), (44_100, 22_050));
    let spec = JobSpec {
        mode: Mode::Variation,
        source: Arc::new(source),
        strength: StrengthCurve::constant(case["strength"].as_f64().unwrap() as f32),
        settings: RenderSettings {
            match_level: false,
            steps: case["steps"].as_u64().unwrap() as u32,
            sampler: SamplerKind::Ddim,
            ..Default::default()
        },
        noise: Some(Arc::new(noise)),
    };
    let out = cpu_engine().submit(0, spec).wait().unwrap();
    assert_eq!((out.sample_rate, out.frames()), (44_100, 22_050));
    let (from, to) = (case["compare"][0].as_u64().unwrap() as usize, case["compare"][1].as_u64().unwrap() as usize);
    // Both low-passed at 16 kHz (windowed sinc, 511 taps), where both resamplers pass the signal
    // unchanged: above it rubato's filter rolls off before Nyquist and the FFT's does not.
    let taps: Vec<f64> = (0..511)
        .map(|i| {
            let k = i as f64 - 255.0;
            let fc = 16_000.0 / 44_100.0;
            let sinc = if k == 0.0 {
                2.0 * fc
            } else {
                (2.0 * std::f64::consts::PI * fc * k).sin() / (std::f64::consts::PI * k)
            };
            sinc * (0.42 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / 510.0).cos()
                + 0.08 * (4.0 * std::f64::consts::PI * i as f64 / 510.0).cos())
        })
        .collect();
    let body = |a: &Audio, shift: usize| {
        let channels = a
            .channels
            .iter()
            .map(|c| {
                (from..to)
                    .map(|n| {
                        taps.iter().enumerate().map(|(i, t)| t * c[n + shift + i - 255] as f64).sum::<f64>() as f32
                    })
                    .collect()
            })
            .collect();
        Audio::new(44_100, channels).unwrap()
    };
    let raw = snr_db(
        &Audio::new(44_100, expected.channels.iter().map(|c| c[from..to].to_vec()).collect()).unwrap(),
        &Audio::new(44_100, out.channels.iter().map(|c| c[from..to].to_vec()).collect()).unwrap(),
    );
    let reference = body(&expected, 0);
    let err = common::max_abs_diff(&reference, &body(&out, 0));
    let snr = snr_db(&reference, &body(&out, 0));
    let shifted = snr_db(&reference, &body(&out, 1));
    println!(
        "44.1 kHz below 16 kHz: max |engine − reference| = {err:.2e}, SNR {snr:.1} dB (one frame off: {shifted:.1} dB; full band: {raw:.1} dB)"
    );
    assert!(snr > 60.0 && err < 2e-3, "44.1 kHz: {snr:.1} dB, max difference {err}");
}
