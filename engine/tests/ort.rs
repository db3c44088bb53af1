//! The real thing: ONNX Runtime (fetched by `cargo xtask fetch-ort`) running the built-in model.
//! The model must really denoise, match the Python reference implementation, and refuse broken files.

mod common;

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

fn variation(engine: &Engine, source: &Audio, strength: f32, steps: u32, sampler: SamplerKind) -> Audio {
    let spec = JobSpec {
        mode: Mode::Variation,
        source: Arc::new(source.clone()),
        strength: StrengthCurve::constant(strength),
        settings: RenderSettings { steps, sampler, seed: 1, ..Default::default() },
        noise: None,
    };
    (*engine.submit(0, spec).wait().expect("render")).clone()
}

/// The first `frames` of the example clip.
fn example(frames: usize) -> Audio {
    let clip = Audio::read_wav(&repo("examples/clip.wav")).unwrap();
    Audio::new(clip.sample_rate, clip.channels.iter().map(|c| c[..frames.min(c.len())].to_vec()).collect()).unwrap()
}

#[test]
fn the_default_model_really_denoises() {
    let engine = cpu_engine();
    let source = example(48_000);
    let low = variation(&engine, &source, 0.2, 20, SamplerKind::Ddim);
    let high = variation(&engine, &source, 0.9, 20, SamplerKind::Ddim);
    let (snr_low, snr_high) = (snr_db(&source, &low), snr_db(&source, &high));
    let (lsd_low, lsd_high) =
        (log_spectral_distance_db(&source, &low, 2048, 8192), log_spectral_distance_db(&source, &high, 2048, 8192));
    println!("SNR vs source: strength 0.2 {snr_low:.2} dB, 0.9 {snr_high:.2} dB");
    println!("log-spectral distance: strength 0.2 {lsd_low:.2} dB, 0.9 {lsd_high:.2} dB");
    assert!(snr_low > snr_high + 3.0, "0.2 must be clearly closer to the source");
    assert!(lsd_low < lsd_high);
    let status = engine.status();
    assert_eq!(status.device.as_deref(), Some("CPU"));
    assert!(status.runtime.unwrap().path.to_string_lossy().contains("onnxruntime"));
}

#[test]
fn every_sampler_runs_on_the_real_model() {
    let engine = cpu_engine();
    let source = example(16_384);
    for kind in SamplerKind::ALL {
        let out = variation(&engine, &source, 0.5, 8, kind);
        assert!(out.first_non_finite().is_none(), "{kind}");
        let snr = snr_db(&source, &out);
        assert!(snr > 0.0, "{kind}: a half-strength variation stays related to its source ({snr:.1} dB)");
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
            steps: params["steps"].as_u64().unwrap() as u32,
            sampler: SamplerKind::Ddim,
            ..Default::default()
        },
        noise: Some(Arc::new(noise)),
    };
    let out = cpu_engine().submit(0, spec).wait().unwrap();
    let err = common::max_abs_diff(&expected, &out);
    println!("max |engine − reference| = {err:.2e}");
    assert!(err < 1e-3, "max abs difference {err}");
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
