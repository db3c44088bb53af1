//! The engine side of `benches/engine_vs_pytorch.py`: loads one model with ONNX Runtime and times
//! what the harness asks for, one JSON line per request on stdout.
//!
//! `cargo run --release -p redance-engine --example bench_calls -- [MODEL_DIR|default] [options]`
//!
//! Options (the session levers): `--threads N`, `--spin`, `--opt disable|basic|extended|all`,
//! `--mem-pattern` / `--no-mem-pattern`, `--no-arena`,
//! `--batch N` (most windows per call), `--fp16` (the model's fp16 variant). `--source WAV`: variations of this file (looped to length)
//! instead of the built-in test signal.
//!
//! Requests on stdin, one per line:
//! * `call LENGTH BATCH` — one model call on seeded noise at t = 0.5;
//! * `variation FRAMES STEPS SAMPLER STRENGTH [OUT.wav]` — a whole variation job (windows, sampler,
//!   crossfade) of a deterministic test signal at the model's rate, seed 0;
//! * `quit`.
//!
//! Every answer carries `seconds` and `hwm_mib`, the process's peak resident memory during the
//! request (the high-water mark is reset before each request through /proc/self/clear_refs).

use redance_engine::denoiser::Denoiser;
use redance_engine::job::{RenderObserver, render};
use redance_engine::model::{
    ModelSource, OptLevel, OrtDenoiser, Precision, ProviderChoice, RuntimeSearch, SessionOptions,
};
use redance_engine::{Audio, JobSpec, Mode, RenderSettings, SamplerKind, StrengthCurve};
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut model = ModelSource::Embedded;
    let mut source_wav: Option<Audio> = None;
    let mut precision = Precision::Fp32;
    let mut options = SessionOptions { provider: ProviderChoice::Cpu, allow_spinning: false, ..Default::default() };
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--threads" => options.intra_threads = Some(value().parse().expect("--threads N")),
            "--spin" => options.allow_spinning = true,
            "--opt" => options.optimization = value().parse::<OptLevel>().expect("--opt level"),
            "--no-mem-pattern" => options.memory_pattern = false,
            "--mem-pattern" => options.memory_pattern = true,
            "--no-arena" => options.cpu_arena = false,
            "--batch" => options.max_batch = value().parse().expect("--batch N"),
            "--provider" => options.provider = value().parse().expect("--provider"),
            "--fp16" => precision = Precision::Fp16,
            "--source" => source_wav = Some(Audio::read_wav(std::path::Path::new(&value())).expect("--source WAV")),
            "default" => model = ModelSource::Embedded,
            p if !p.starts_with("--") => model = ModelSource::Path(p.into()),
            other => panic!("unknown option {other}"),
        }
    }
    let runtime = RuntimeSearch::default().load().expect("ONNX Runtime");
    let files = model.load_as(precision).expect("model");
    assert_eq!(files.precision, precision, "{:?}", files.note);
    reset_hwm();
    let start = Instant::now();
    let mut denoiser = OrtDenoiser::new(&files, &options).expect("session");
    let load_s = start.elapsed().as_secs_f64();
    // The worker drops the model bytes once the session holds the graph; so does the benchmark.
    drop(files);
    let info = denoiser.info().clone();
    say(&serde_json::json!({
        "event": "ready", "load_s": load_s, "hwm_mib": hwm_mib(), "model": info.name,
        "device": denoiser.device(), "provider_note": denoiser.provider_note(),
        "runtime": runtime.version, "sample_rate": info.sample_rate, "window": info.window_length,
    }));

    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["call", length, batch] => {
                let (length, batch): (usize, usize) = (length.parse().unwrap(), batch.parse().unwrap());
                let mut noise = redance_engine::noise::NoiseSource::new(1, 0);
                let mut x = vec![0.0f32; batch * info.channels * length];
                noise.fill(&mut x);
                let t = vec![0.5f32; batch];
                let mut v = vec![0.0f32; x.len()];
                reset_hwm();
                let start = Instant::now();
                denoiser.predict_v(&x, &t, length, &mut v).expect("call");
                let seconds = start.elapsed().as_secs_f64();
                say(&serde_json::json!({"seconds": seconds, "hwm_mib": hwm_mib(), "calls": 1}));
            }
            ["variation", frames, steps, sampler, strength, rest @ ..] => {
                let frames: usize = frames.parse().unwrap();
                let source = match &source_wav {
                    Some(a) => Audio::new(
                        a.sample_rate,
                        a.channels.iter().map(|c| c.iter().cycle().take(frames).copied().collect()).collect(),
                    )
                    .unwrap(),
                    None => test_signal(info.sample_rate, frames),
                };
                let spec = JobSpec {
                    mode: Mode::Variation,
                    source: Arc::new(source),
                    strength: StrengthCurve::constant(strength.parse().unwrap()),
                    settings: RenderSettings {
                        steps: steps.parse().unwrap(),
                        sampler: sampler.parse::<SamplerKind>().unwrap(),
                        seed: 0,
                        ..Default::default()
                    },
                    noise: None,
                };
                let mut obs = Count::default();
                reset_hwm();
                let start = Instant::now();
                let out = render(&spec, &mut denoiser, &mut obs).expect("render");
                let seconds = start.elapsed().as_secs_f64();
                let hwm = hwm_mib();
                if let Some(path) = rest.first() {
                    out.write_wav(std::path::Path::new(path)).expect("write wav");
                }
                say(&serde_json::json!({
                    "seconds": seconds, "hwm_mib": hwm, "calls": obs.calls, "windows": obs.windows,
                    "audio_s": frames as f64 / info.sample_rate as f64,
                }));
            }
            ["quit"] | [] => break,
            other => panic!("unknown request {other:?}"),
        }
    }
}

fn say(v: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{v}").unwrap();
    out.flush().unwrap();
}

/// The harness's test signal (the same formula as the PyTorch side): two detuned tones with a
/// pulsing envelope, -12 dBFS-ish, slightly different per channel.
fn test_signal(rate: u32, frames: usize) -> Audio {
    let ch = |phase: f64| -> Vec<f32> {
        (0..frames)
            .map(|i| {
                let t = i as f64 / rate as f64;
                let env = 0.5 + 0.5 * (2.0 * std::f64::consts::PI * 2.0 * t).cos();
                (0.25
                    * env
                    * ((2.0 * std::f64::consts::PI * 220.0 * t + phase).sin()
                        + 0.5 * (2.0 * std::f64::consts::PI * 331.0 * t).sin())) as f32
            })
            .collect()
    };
    Audio::new(rate, vec![ch(0.0), ch(0.3)]).unwrap()
}

#[derive(Default)]
struct Count {
    calls: usize,
    windows: usize,
}

impl RenderObserver for Count {
    fn cancelled(&self) -> bool {
        false
    }
    fn planned(&mut self, _windows: usize, _calls: usize) {}
    fn call_done(&mut self) {
        self.calls += 1;
    }
    fn window_done(&mut self, _index: usize) {
        self.windows += 1;
    }
    fn chunk(&mut self, _offset: usize, _audio: Audio) {}
}

fn reset_hwm() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn hwm_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
