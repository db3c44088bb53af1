//! Quality and cost of render windows longer than the trained chunk (the U-Net is fully
//! convolutional, so any multiple of its length multiple works).
//!
//! `cargo run --release -p redance-engine --example window_length [-- SECONDS]`
//!
//! Renders the same variation (example clip looped to SECONDS, strength 0.5, DDIM 20 steps, seed 1)
//! with windows of 1×, 2×, 4× and 8× the trained chunk and prints, per window length: model calls,
//! seconds, the real-time factor, the cost relative to 1×, and two quality measures against the
//! source: SNR and log-spectral distance (a longer window should neither blur nor add noise).

use redance_engine::metrics::{log_spectral_distance_db, snr_db};
use redance_engine::{Audio, Engine, EngineConfig, JobSpec, Mode, RenderSettings, StrengthCurve};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let seconds: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(8.0);
    let clip = Audio::read_wav(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/clip.wav"))
        .expect("examples/clip.wav");
    let frames = (seconds * clip.sample_rate as f64) as usize;
    let source = Audio::new(
        clip.sample_rate,
        clip.channels.iter().map(|c| c.iter().cycle().take(frames).copied().collect()).collect(),
    )
    .unwrap();
    let engine = Engine::new(EngineConfig::cpu());
    // Load the model first so the first row is not charged for it.
    engine.submit(0, spec(&source, 0.0, None)).wait().expect("model loads");
    let trained = engine.status().model.expect("model").window_length;
    println!("{seconds} s of audio, trained window {trained} samples");
    println!(
        "{:>8} {:>8} {:>9} {:>7} {:>9} {:>9} {:>9}",
        "window", "windows", "seconds", "RTF", "cost/1x", "SNR dB", "LSD dB"
    );
    let mut base = None;
    for mult in [1, 2, 4, 8] {
        let window = trained * mult;
        if window > frames * 2 {
            break;
        }
        let start = Instant::now();
        let handle = engine.submit(0, spec(&source, 0.5, Some(window)));
        let out = handle.wait().expect("render");
        let secs = start.elapsed().as_secs_f64();
        let base_secs = *base.get_or_insert(secs);
        println!(
            "{:>8} {:>8} {:>9.2} {:>7.2} {:>9.2} {:>9.2} {:>9.2}",
            window,
            handle.progress.windows_total.load(std::sync::atomic::Ordering::Relaxed),
            secs,
            seconds / secs,
            secs / base_secs,
            snr_db(&source, &out),
            log_spectral_distance_db(&source, &out, 1024, 16 * 1024)
        );
    }
}

fn spec(source: &Audio, strength: f32, window: Option<usize>) -> JobSpec {
    JobSpec {
        mode: Mode::Variation,
        source: Arc::new(source.clone()),
        strength: StrengthCurve::constant(strength),
        settings: RenderSettings { steps: 20, seed: 1, window_length: window, ..Default::default() },
        noise: None,
    }
}
