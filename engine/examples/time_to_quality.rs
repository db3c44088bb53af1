//! Time to quality: how few model calls each sampler needs to land where the Dance Diffusion
//! notebook's default (iPLMS, 100 steps) lands, on the built-in model.
//!
//! `cargo run --release -p redance-engine --example time_to_quality [-- STRENGTH...]`
//!
//! For each strength (default 0.5 and 1.0 = generation from noise), the reference is iPLMS at 250
//! steps with the same seed (all three samplers solve the same probability-flow ODE, so they converge
//! to one answer). Each row prints the render's distance from that reference as SNR (higher is
//! closer) and the model calls it made; the notebook default's SNR is the noise floor to reach.

use redance_engine::metrics::snr_db;
use redance_engine::{Audio, Engine, EngineConfig, JobSpec, Mode, RenderSettings, SamplerKind, StrengthCurve};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

fn main() {
    let strengths: Vec<f32> = {
        let s: Vec<f32> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
        if s.is_empty() { vec![0.5, 1.0] } else { s }
    };
    let clip = Audio::read_wav(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/clip.wav"))
        .expect("examples/clip.wav");
    let engine = Engine::new(EngineConfig::cpu());
    engine.submit(0, spec(&clip, 0.0, 1, SamplerKind::Ddim)).wait().expect("model loads");
    let window = engine.status().model.expect("model").window_length;
    // One trained window of the clip at the model's rate: the unit every render is made of.
    let source =
        Audio::new(clip.sample_rate, clip.channels.iter().map(|c| c[..window.min(c.len())].to_vec()).collect())
            .unwrap();

    for strength in strengths {
        let render = |steps: u32, sampler: SamplerKind| {
            let h = engine.submit(0, spec(&source, strength, steps, sampler));
            let start = Instant::now();
            let out = h.wait().expect("render");
            (out, h.progress.calls_done.load(Ordering::Relaxed), start.elapsed().as_secs_f64())
        };
        let (reference, _, _) = render(250, SamplerKind::Iplms);
        let (notebook, notebook_calls, notebook_secs) = render(100, SamplerKind::Iplms);
        let floor = snr_db(&reference, &notebook);
        println!(
            "\nstrength {strength}: reference iplms-250; notebook default iplms-100 = {floor:.1} dB, {notebook_calls} calls, {notebook_secs:.2} s"
        );
        println!("{:>9} {:>6} {:>6} {:>9} {:>8} {:>10}", "sampler", "steps", "calls", "SNR dB", "seconds", "vs floor");
        let mut best: Option<(SamplerKind, u32, usize, f64)> = None;
        for sampler in SamplerKind::ALL {
            for steps in [5u32, 8, 10, 12, 15, 20, 25, 30, 40, 50, 100] {
                let (out, calls, secs) = render(steps, sampler);
                let snr = snr_db(&reference, &out);
                let ok = snr >= floor;
                println!(
                    "{:>9} {steps:>6} {calls:>6} {snr:>9.1} {secs:>8.2} {:>10}",
                    sampler.name(),
                    if ok { "within" } else { "" }
                );
                if ok && best.is_none_or(|b| calls < b.2) {
                    best = Some((sampler, steps, calls, secs));
                }
            }
        }
        if let Some((sampler, steps, calls, secs)) = best {
            println!(
                "fewest calls within the floor: {sampler} {steps} steps ({calls} calls): {:.1}x fewer calls, {:.1}x sooner than the notebook default",
                notebook_calls as f64 / calls as f64,
                notebook_secs / secs
            );
        }
    }
}

fn spec(source: &Audio, strength: f32, steps: u32, sampler: SamplerKind) -> JobSpec {
    JobSpec {
        mode: if strength >= 1.0 { Mode::Generation } else { Mode::Variation },
        source: Arc::new(source.clone()),
        strength: StrengthCurve::constant(strength),
        settings: RenderSettings { steps, sampler, seed: 7, ..Default::default() },
        noise: None,
    }
}
