//! The whole cycle through the audio-thread core: capture on the bar grid → render (fake engine) →
//! stream back → play in place, every `process` under `assert_no_alloc`.
#![allow(clippy::needless_range_loop)] // channels are indexed alongside other per-channel data

mod common;

use common::*;
use std::sync::atomic::Ordering;

/// Captures bar 2 (armed mid-bar 1), renders at strength 0 (the identity), and checks that the take
/// plays exactly where it was captured on the next pass, dry elsewhere.
fn cycle(block: usize, offline: bool) {
    let mut rig = Rig::new(engine(zero), 2, block);
    rig.sim = Sim::at(30_001, TEMPO);
    rig.params.length = 1;
    rig.capture(block, &signal, offline);
    if !offline {
        rig.pump_rendered();
    }
    // Second pass, silent input: output is the take on [BAR, 2·BAR), silence elsewhere.
    rig.sim = Sim::at(BAR - 5_000, TEMPO);
    let frames = (BAR + 10_000) as usize;
    let mut out = vec![Vec::new(); 2];
    let mut done = 0;
    while done < frames {
        let n = block.min(frames - done);
        rig.block(n, &silence, offline, &mut out);
        done += n;
    }
    // The bridge streams a take before it saves it and counts the render after the save: offline,
    // the take can have played before the manifest names it.
    rig.wait_for("the saved take", |r| r.status().renders_finished.load(Ordering::Acquire) == 1);
    let manifest = rig.manifest();
    assert_eq!(manifest["source"]["start_pos"], serde_json::json!(BAR), "capture starts on the bar line");
    assert_eq!(manifest["source"]["file"]["frames"], serde_json::json!(BAR));
    for c in 0..2 {
        for (i, s) in out[c].iter().enumerate() {
            let pos = BAR - 5_000 + i as i64;
            let expect = if (BAR..2 * BAR).contains(&pos) { signal(pos, c) } else { 0.0 };
            assert!((s - expect).abs() < 1e-4, "block {block}: channel {c} at {pos}: {s} != {expect}");
        }
    }
}

#[test]
fn cycle_block_1() {
    cycle(1, false);
}

#[test]
fn cycle_block_17() {
    cycle(17, false);
}

#[test]
fn cycle_block_4096() {
    cycle(4096, false);
}

/// Offline: no pumping, no waiting outside; `process` itself waits for the render.
#[test]
fn offline_bounce_holds_the_take() {
    cycle(512, true);
}

#[test]
fn without_transport_capture_starts_now_and_plays_when_ready() {
    let mut rig = Rig::new(engine(zero), 2, 256);
    rig.sim = Sim::none();
    rig.sim.pos = 1_000; // only feeds the signal: the core sees no transport
    rig.params.length = 1; // one second without a tempo
    rig.capture(256, &signal, false);
    // The capture began at the block after the one with Capture off.
    let start = 1_000 + 256;
    // Keep processing in real time: the take starts playing in the first block it is there.
    let mut out = vec![Vec::new(); 2];
    let began = std::time::Instant::now();
    while out[0].len() < 200_000 && out[0].iter().all(|s| *s == 0.0) {
        assert!(began.elapsed().as_secs() < 60, "the take never played");
        rig.block(256, &silence, false, &mut out);
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    let first = out[0].iter().position(|s| *s != 0.0).unwrap();
    let at = first - first % 256;
    let more = rig.run(48_000, 256, &silence);
    for c in 0..2 {
        out[c].extend_from_slice(&more[c]);
        for k in 0..48_000usize {
            assert!((out[c][at + k] - signal(start + k as i64, c)).abs() < 1e-4, "frame {k}");
        }
    }
    // Played once: then dry again.
    let after = rig.run(1_000, 256, &silence);
    assert!(after[0].iter().all(|s| *s == 0.0));
}

#[test]
fn loop_plays_on_the_bar_grid() {
    let mut rig = Rig::new(engine(zero), 1, 128);
    rig.sim = Sim::at(0, TEMPO);
    rig.params.length = 1;
    rig.capture(128, &signal, false);
    rig.pump_rendered();
    rig.params.looping = true;
    rig.sim = Sim::at(5 * BAR + 17, TEMPO);
    let out = rig.run(2_000, 128, &silence);
    for (i, s) in out[0].iter().enumerate() {
        // The region is bar 2 (armed after the first block): the loop repeats it on every bar.
        let expect = signal(BAR + (5 * BAR + 17 + i as i64).rem_euclid(BAR), 0);
        assert!((s - expect).abs() < 1e-4);
    }
}

#[test]
fn mix_blends_take_and_input() {
    let mut rig = Rig::new(engine(zero), 1, 64);
    rig.sim = Sim::at(0, TEMPO);
    rig.params.length = 1;
    rig.capture(64, &signal, false);
    rig.pump_rendered();
    rig.params.mix = 0.25;
    rig.sim = Sim::at(BAR + 100, TEMPO);
    let out = rig.run(1_000, 64, &|_, _| 1.0);
    for (i, s) in out[0].iter().enumerate() {
        let expect = 0.75 + 0.25 * signal(BAR + 100 + i as i64, 0);
        assert!((s - expect).abs() < 1e-4);
    }
}

#[test]
fn nan_and_inf_never_reach_model_or_output() {
    let mut rig = Rig::new(engine(zero), 2, 100);
    rig.sim = Sim::at(0, TEMPO);
    rig.params.length = 1;
    let nasty = |pos: i64, c: usize| match pos % 3 {
        0 => f32::NAN,
        1 if c == 0 => f32::INFINITY,
        _ => signal(pos, c),
    };
    rig.capture(100, &nasty, false);
    rig.pump_rendered();
    rig.sim = Sim::at(0, TEMPO);
    let out = rig.run(BAR as usize, 100, &nasty);
    for c in 0..2 {
        for (i, s) in out[c].iter().enumerate() {
            assert!(s.is_finite());
            let pos = i as i64;
            let clean = if pos % 3 == 0 || (pos % 3 == 1 && c == 0) { 0.0 } else { signal(pos, c) };
            assert!((s - clean).abs() < 1e-4);
        }
    }
}

#[test]
fn strength_automation_is_recorded_along_the_capture() {
    let mut rig = Rig::new(engine(zero), 2, 480);
    rig.sim = Sim::at(BAR - 480, TEMPO);
    rig.params.length = 1;
    let mut sink = vec![Vec::new(); 2];
    rig.block(480, &signal, false, &mut sink);
    rig.params.capture = true;
    while rig.status().captures_completed.load(Ordering::Acquire) == 0 {
        // A ramp from 0 at the bar line to 1 at its end.
        rig.params.strength = ((rig.sim.pos - BAR) as f32 / BAR as f32).clamp(0.0, 1.0);
        rig.block(480, &signal, false, &mut sink);
    }
    rig.pump_rendered();
    let curve: Vec<f32> = serde_json::from_value(rig.manifest()["source"]["strength"].clone()).unwrap();
    assert!(curve.len() > 100);
    assert!(curve[0] < 0.01 && *curve.last().unwrap() > 0.98, "{:?}", (curve[0], curve.last()));
    assert!(curve.windows(2).all(|w| w[1] >= w[0] - 1e-6));
}

#[test]
fn failed_render_leaves_dry_audio_and_says_why() {
    let mut rig = Rig::new(engine(failing), 2, 256);
    rig.sim = Sim::at(0, TEMPO);
    rig.params.length = 1;
    rig.params.strength = 0.5;
    rig.capture(256, &signal, false);
    rig.pump_until("the failure", |r| r.status().renders_failed.load(Ordering::Acquire) == 1);
    let msg = rig.status().message();
    assert!(msg.contains("failed") && msg.contains("always fails"), "{msg}");
    assert!(rig.status().message_is_error.load(Ordering::Acquire));
    rig.sim = Sim::at(0, TEMPO);
    let out = rig.run(10_000, 256, &|p, c| signal(p, c) * 0.5);
    for (i, s) in out[1].iter().enumerate() {
        assert_eq!(*s, signal(i as i64, 1) * 0.5);
    }
}

/// Band-limited tones at `rate` (300 Hz to 9 kHz): they survive resampling, and a take one frame off
/// is wrong by far more than the resampler's error.
fn tones(pos: i64, c: usize, rate: f64) -> f32 {
    let t = pos as f64 / rate;
    let ph = c as f64 * 0.7;
    let tau = 2.0 * std::f64::consts::PI;
    (0.25 * (tau * 300.0 * t + ph).sin()
        + 0.2 * (tau * 2_300.0 * t + 2.0 * ph).sin()
        + 0.2 * (tau * 9_000.0 * t + 3.0 * ph).sin()) as f32
}

#[test]
fn sample_rate_change_replays_the_take_resampled() {
    let mut rig = Rig::new(engine(zero), 2, 512);
    rig.sim = Sim::at(0, TEMPO);
    rig.params.length = 1;
    rig.capture(512, &|p, c| tones(p, c, 48_000.0), false);
    rig.pump_rendered();
    rig.reactivate(44_100.0, 333);
    rig.pump_until("the resampled take", |r| r.status().take_frames_total.load(Ordering::Acquire) == 88_200);
    rig.pump_rendered();
    assert_eq!(rig.status().take_frames_total.load(Ordering::Acquire), 88_200);
    rig.sim = Sim { rate: 44_100.0, ..Sim::at(0, TEMPO) };
    let out = rig.run(180_000, 333, &silence);
    // Bar 2 at 44.1 kHz: [88 200, 176 400). Before it, dry silence; inside it (away from the edges,
    // where the resampler's filter rings) the same music at the same time, sample by sample; after
    // it, silence again.
    let mut err = 0.0f32;
    for c in 0..2 {
        assert!(out[c][..88_200].iter().all(|s| *s == 0.0), "sound before the bar line");
        for p in 88_200 + 256..176_400 - 256 {
            err = err.max((out[c][p] - tones(p as i64, c, 44_100.0)).abs());
        }
        assert!(out[c][176_400 + 256..].iter().all(|s| s.abs() < 1e-3), "sound after the bar");
    }
    println!("48 → 44.1 kHz: max |take − source| {err:.2e}");
    // Measured 7.8e-7 (the resampler's error on these tones); one frame off is 0.31.
    assert!(err < 1e-4, "the take is not the source in place after the rate change: {err}");
}

/// A model that sleeps in every call and counts the calls.
struct CountingSlow(redance_engine::ModelInfo);
static SLOW_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl redance_engine::denoiser::Denoiser for CountingSlow {
    fn info(&self) -> &redance_engine::ModelInfo {
        &self.0
    }
    fn predict_v(&mut self, _x: &[f32], _t: &[f32], _frames: usize, v: &mut [f32]) -> redance_engine::Result<()> {
        SLOW_CALLS.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(20));
        v.fill(0.0);
        Ok(())
    }
}

#[test]
fn removing_an_instance_cancels_its_render() {
    let engine = engine(|| Box::new(CountingSlow(redance_engine::denoiser::fake::info(4096))));
    let mut rig = Rig::new(engine, 2, 512);
    rig.sim = Sim::at(0, TEMPO);
    rig.params.length = 1;
    rig.params.strength = 1.0;
    rig.params.choice.steps = 200;
    rig.capture(512, &signal, false);
    rig.pump_until("the render to start", |r| r.status().render_calls_done.load(Ordering::Acquire) > 0);
    let planned = rig.status().render_calls_total.load(Ordering::Acquire);
    drop(rig.bridge.take());
    // The engine is free again: another instance's render completes (its hang guard would trip if
    // the removed instance's 200-step render ran on), and the removed render stopped part way.
    let mut other = Rig::new(engine, 1, 512);
    other.sim = Sim::none();
    other.params.length = 1;
    other.params.strength = 0.5;
    other.params.choice.steps = 2;
    other.capture(512, &signal, false);
    other.pump_rendered();
    assert_eq!(other.status().renders_finished.load(Ordering::Acquire), 1);
    let calls = SLOW_CALLS.load(Ordering::SeqCst);
    println!("the removed render made {calls} of its {planned} calls (the other instance's included)");
    assert!(planned > 1_000 && calls < planned, "the removed instance's render ran to the end: {calls} of {planned}");
}

/// A long capture near the maximum (44 s, hundreds of windows) through the core: captured on the
/// bar line, rendered at strength 0.5, streamed back, played in place; the take equals the engine's
/// own render of the saved source (same settings), frame by frame.
#[test]
fn a_long_capture_renders_and_plays_in_place() {
    let mut rig = Rig::new(engine(zero), 2, 4096);
    rig.sim = Sim::at(BAR / 2, TEMPO);
    rig.params.length = 22; // 22 bars at 120 BPM: 44 s of the 48 s maximum
    rig.params.strength = 0.5;
    rig.params.choice.steps = 2;
    rig.params.choice.seed = 9;
    rig.capture(4096, &signal, false);
    rig.pump_rendered();
    let m = rig.manifest();
    let frames = 22 * BAR as usize;
    assert_eq!(m["source"]["start_pos"], serde_json::json!(BAR));
    assert_eq!(m["source"]["file"]["frames"], serde_json::json!(frames));
    let takes = rig.data_dir.join("takes");
    let source = redance_engine::Audio::read_wav(&takes.join(m["source"]["file"]["name"].as_str().unwrap())).unwrap();
    for c in 0..2 {
        assert!(source.channels[c].iter().enumerate().all(|(i, x)| *x == signal(BAR + i as i64, c)), "the capture");
    }
    struct Quiet(usize);
    impl redance_engine::job::RenderObserver for Quiet {
        fn cancelled(&self) -> bool {
            false
        }
        fn planned(&mut self, windows: usize, _: usize) {
            self.0 = windows;
        }
        fn call_done(&mut self) {}
        fn window_done(&mut self, _: usize) {}
        fn chunk(&mut self, _: usize, _: redance_engine::Audio) {}
    }
    let spec = redance_engine::JobSpec {
        mode: redance_engine::Mode::Variation,
        source: std::sync::Arc::new(source),
        strength: redance_engine::StrengthCurve::constant(0.5),
        // The settings the plugin rendered with: its own defaults, with these steps and seed.
        settings: redance_engine::RenderSettings {
            steps: rig.params.choice.steps,
            sampler: rig.params.choice.sampler,
            seed: rig.params.choice.seed,
            ..Default::default()
        },
        noise: None,
    };
    let mut windows = Quiet(0);
    let expected = redance_engine::job::render(
        &spec,
        &mut redance_engine::denoiser::fake::Zero(redance_engine::denoiser::fake::info(4096)),
        &mut windows,
    )
    .unwrap();
    assert!(windows.0 > 100, "{} windows", windows.0);
    rig.sim = Sim::at(BAR - 1_000, TEMPO);
    let out = rig.run(frames + 2_000, 4096, &silence);
    for c in 0..2 {
        assert!(out[c][..1_000].iter().all(|x| *x == 0.0), "sound before the bar line");
        assert!(out[c][1_000 + frames..].iter().all(|x| *x == 0.0), "sound after the take");
        let err = (0..frames).map(|i| (out[c][1_000 + i] - expected.channels[c][i]).abs()).fold(0.0f32, f32::max);
        assert!(err < 1e-6, "channel {c}: the take played is not the render of the capture (max error {err})");
    }
}

#[test]
fn eight_instances_share_one_engine() {
    let engine = engine(zero);
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let mut rig = Rig::new(engine, 2, 64 + i);
                rig.sim = Sim::none();
                rig.params.length = 1;
                rig.params.strength = 0.3;
                rig.params.choice.steps = 3;
                rig.capture(64 + i, &signal, false);
                rig.pump_rendered();
                assert_eq!(rig.status().renders_finished.load(Ordering::Acquire), 1, "instance {i}");
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Arms while the host's transport is stopped (at `stopped_at`), runs stopped blocks, then plays from
/// there until the capture completes; returns the saved source's timeline position.
fn arm_stopped_then_play(rig: &mut Rig, stopped_at: i64, block: usize) -> serde_json::Value {
    let mut sink = vec![Vec::new(); 2];
    rig.sim.pos = stopped_at;
    rig.sim.playing = false;
    rig.params.capture = false;
    rig.block(block, &signal, false, &mut sink);
    rig.params.capture = true;
    for _ in 0..50 {
        rig.sim.pos = stopped_at; // a stopped transport does not move
        rig.block(block, &signal, false, &mut sink);
    }
    assert_eq!(rig.status().captures_completed.load(Ordering::Acquire), 0, "captured while stopped");
    assert_eq!(rig.status().capture_phase(), redance::status::CapturePhase::Armed);
    assert!(rig.status().capture_waits_for_play.load(Ordering::Relaxed), "the status says it waits for Play");
    rig.sim.pos = stopped_at;
    rig.sim.playing = true;
    let began = std::time::Instant::now();
    while rig.status().captures_completed.load(Ordering::Acquire) == 0 {
        assert!(began.elapsed().as_secs() < 60, "capture never completed after Play");
        rig.block(block, &signal, false, &mut sink);
    }
    assert!(!rig.status().capture_waits_for_play.load(Ordering::Relaxed));
    rig.params.capture = false;
    rig.wait_for("the saved capture", |r| !r.manifest()["source"].is_null());
    rig.manifest()["source"]["start_pos"].clone()
}

#[test]
fn armed_while_stopped_waits_for_play_then_the_bar_line() {
    for block in [1, 64, 1024] {
        let mut rig = Rig::new(engine(zero), 2, block);
        rig.sim = Sim::at(0, TEMPO);
        rig.params.length = 1;
        let start = arm_stopped_then_play(&mut rig, 30_001, block);
        assert_eq!(start, serde_json::json!(BAR), "block {block}: capture starts on the first bar line after Play");
    }
}

#[test]
fn armed_while_stopped_with_start_now_starts_at_play() {
    let mut rig = Rig::new(engine(zero), 2, 256);
    rig.sim = Sim::at(0, TEMPO);
    rig.params.length = 1;
    rig.params.start_on_bar = false;
    let start = arm_stopped_then_play(&mut rig, 30_001, 256);
    assert_eq!(start, serde_json::json!(30_001), "capture starts with Play");
}

/// pedalboard: offline, a tempo but never playing. Waiting for Play there would never capture.
#[test]
fn offline_host_with_a_stopped_transport_captures_at_once() {
    let mut rig = Rig::new(engine(zero), 2, 512);
    rig.sim = Sim::at(0, TEMPO);
    rig.sim.playing = false;
    rig.params.length = 1;
    rig.capture(512, &signal, true);
    rig.wait_for("the saved capture", |r| !r.manifest()["source"].is_null());
    assert_eq!(rig.manifest()["source"]["start_pos"], serde_json::Value::Null, "no timeline: plays freely");
}

/// After a tempo change (100 BPM from bar 2 = beat 4, with Ardour's beats rounded to 1/1920),
/// capture starts on the bar line to the sample, not where the rounded beat puts it.
#[test]
fn bar_line_after_a_tempo_change_is_sample_exact() {
    let bar_100 = 115_200; // one 4/4 bar at 100 BPM, 48 kHz
    for (block, arm_at) in [(512, BAR + 40_007), (1024, BAR + 3), (64, BAR + 2 * bar_100 - 20_001)] {
        let mut rig = Rig::new(engine(zero), 2, block);
        rig.sim = Sim { tempo_since: Some((BAR, 4.0)), ..Sim::at(arm_at, 100.0) };
        rig.params.length = 1;
        rig.capture(block, &signal, false);
        rig.wait_for("the saved capture", |r| !r.manifest()["source"].is_null());
        // Capture was armed one block after `arm_at`: the next bar line after that.
        let armed = arm_at + block as i64;
        let expect = BAR + (armed - BAR + bar_100 - 1) / bar_100 * bar_100;
        assert_eq!(rig.manifest()["source"]["start_pos"], serde_json::json!(expect), "block {block}, armed at {armed}");
    }
}

/// Ardour re-activates its plugins as an export starts: the new activation's take buffer is empty
/// until the bridge re-sends the take, and an offline bounce right after it must wait for that.
#[test]
fn offline_bounce_right_after_a_reactivation_holds_the_take() {
    let mut rig = Rig::new(engine(zero), 2, 512);
    rig.sim = Sim::at(30_001, TEMPO);
    rig.params.length = 1;
    rig.capture(512, &signal, false);
    rig.pump_rendered();
    for _ in 0..20 {
        rig.reactivate(RATE, 512);
        rig.sim = Sim::at(BAR - 512, TEMPO);
        let mut out = vec![Vec::new(); 2];
        for _ in 0..3 {
            rig.block(512, &silence, true, &mut out);
        }
        for c in 0..2 {
            for i in 512..1536 {
                let pos = BAR - 512 + i as i64;
                assert_eq!(out[c][i], signal(pos, c), "channel {c} at {pos}: the take is missing");
            }
        }
    }
}
