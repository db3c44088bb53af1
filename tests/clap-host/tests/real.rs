//! Redance.clap rendering with the built-in model (ONNX Runtime from this checkout): one instance,
//! then eight instances in one host process sharing the engine. scripts/test.sh runs this on the
//! debug bundle built with nice-plug's `assert_process_allocs`, so every process() call around a
//! real render (capture, the take streaming in, playback) aborts the test if it allocates.
#![allow(clippy::needless_range_loop)] // channels are indexed alongside other per-channel data

use redance_clap_test::*;
use std::time::Duration;

/// A hang guard for a render on a slow machine, not a measure of speed.
const LIMIT: Duration = Duration::from_secs(600);
/// 240 BPM: one bar is one second, one window of the model.
const TEMPO: f64 = 240.0;

fn input(pos: i64, c: usize) -> f32 {
    tones(pos, c, 48_000.0)
}

/// Capture and render parameters (CLAP values: stepped parameters by index, others normalised).
fn params(seed: f64) -> Vec<(&'static str, f64)> {
    vec![("strength", 0.6), ("steps", 2.0), ("sampler", 0.0), ("seed", seed), ("mode", 0.0), ("auto", 1.0)]
}

/// Frames in `x` that are exactly zero (where the take has not arrived, playback is dry silence).
fn silent(x: &[f32]) -> usize {
    x.iter().filter(|v| **v == 0.0).count()
}

/// Checks a replay of [bar − 1000, 2·bar + 1000): dry silence around the bar, a finite take inside
/// that is neither silent nor the source; returns the take.
fn take(out: &[Vec<f32>; 2], bar: i64, who: &str) -> Vec<Vec<f32>> {
    let mut take = Vec::new();
    for c in 0..2 {
        assert!(out[c][..1_000].iter().all(|x| *x == 0.0), "{who}: sound before the bar line");
        assert!(out[c][1_000 + bar as usize..].iter().all(|x| *x == 0.0), "{who}: sound after the bar");
        let t = out[c][1_000..1_000 + bar as usize].to_vec();
        assert!(t.iter().all(|x| x.is_finite()), "{who}: non-finite take");
        assert!(silent(&t) < 16, "{who}: {} silent frames in the take", silent(&t));
        let rms = (t.iter().map(|x| x * x).sum::<f32>() / t.len() as f32).sqrt();
        let diff = t.iter().enumerate().map(|(i, x)| (x - input(bar + i as i64, c)).abs()).fold(0.0f32, f32::max);
        println!("{who} channel {c}: take rms {rms:.3}, max |take − source| {diff:.3}");
        assert!(rms > 0.01, "{who}: the take is silent");
        assert!(diff > 0.01, "{who}: the take is the source: nothing was rendered");
        take.push(t);
    }
    take
}

fn complete(bar: i64) -> impl Fn(&[Vec<f32>; 2]) -> bool {
    move |out| (0..2).all(|c| silent(&out[c][1_000..1_000 + bar as usize]) < 16)
}

#[test]
fn one_real_render_plays_in_place() {
    let entry = entry(&bundle(TestEngine::Real));
    let mut s = Session::new(&entry, 48_000.0, 512);
    s.tempo = TEMPO;
    let bar = s.bar();
    s.capture_bar_2(&params(3.0), &input);
    let out = s.replay_until(bar - 1_000, bar as usize + 2_000, LIMIT, &complete(bar));
    take(&out, bar, "one instance");
    s.close();
}

#[test]
fn eight_instances_render_with_the_real_model_in_one_process() {
    let entry = entry(&bundle(TestEngine::Real));
    let mut sessions: Vec<Session> = (0..8)
        .map(|i| {
            let mut s = Session::new(&entry, 48_000.0, 64 + 61 * i);
            s.tempo = TEMPO;
            s
        })
        .collect();
    // All eight capture (each with its own seed), then all render at once on the shared engine.
    for (i, s) in sessions.iter_mut().enumerate() {
        s.capture_bar_2(&params(10.0 + i as f64), &input);
    }
    let mut takes = Vec::new();
    for (i, s) in sessions.iter_mut().enumerate() {
        let bar = s.bar();
        let out = s.replay_until(bar - 1_000, bar as usize + 2_000, LIMIT, &complete(bar));
        takes.push(take(&out, bar, &format!("instance {i}")));
    }
    // Each instance heard its own render (seeds differ), not another's.
    for i in 0..8 {
        for j in 0..i {
            assert_ne!(takes[i], takes[j], "instances {i} and {j} play the same take");
        }
    }
    for s in sessions {
        s.close();
    }
}
