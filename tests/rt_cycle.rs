//! The whole cycle through the audio-thread core: capture on the bar grid → render (fake engine) →
//! stream back → play in place, every `process` under `assert_no_alloc`.
#![allow(clippy::needless_range_loop)] // channels are indexed alongside other per-channel data

mod common;

use common::*;
use std::sync::atomic::Ordering;

const TEMPO: f64 = 120.0;
/// One 4/4 bar at 120 BPM and 48 kHz.
const BAR: i64 = 96_000;

/// Captures bar 2 (armed mid-bar 1), renders at strength 0 (the identity), and checks that the take
/// plays exactly where it was captured on the next pass, dry elsewhere.
fn cycle(block: usize, offline: bool) {
    let mut rig = Rig::new(engine(zero), 2, block);
    rig.sim = Sim::at(30_001, TEMPO);
    rig.params.length = 1;
    rig.capture(block, &signal, offline);
    let m = rig.manifest();
    if !offline {
        rig.pump_rendered();
    }
    let m = if offline { m } else { rig.manifest() };
    let _ = m;
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

#[test]
fn sample_rate_change_replays_the_take_resampled() {
    let mut rig = Rig::new(engine(zero), 2, 512);
    rig.sim = Sim::at(0, TEMPO);
    rig.params.length = 1;
    rig.capture(512, &|p, _| if p < 2 * BAR { 0.5 } else { 0.0 }, false);
    rig.pump_rendered();
    rig.reactivate(44_100.0, 333);
    rig.pump_until("the resampled take", |r| r.status().take_frames_total.load(Ordering::Acquire) == 88_200);
    rig.pump_rendered();
    assert_eq!(rig.status().take_frames_total.load(Ordering::Acquire), 88_200);
    rig.sim = Sim { rate: 44_100.0, ..Sim::at(0, TEMPO) };
    let out = rig.run(100_000, 333, &silence);
    // Away from the edges (the resampler's filter rings there) the take holds its level.
    // Bar 2 at 44.1 kHz: [88 200, 176 400). Away from the edges (the resampler's filter rings
    // there) the take holds its level; before it, dry silence.
    assert!(out[0][..88_200].iter().all(|s| *s == 0.0));
    assert!(out[0][89_200..100_000].iter().all(|s| (s - 0.5).abs() < 0.02));
}

#[test]
fn removing_an_instance_cancels_its_render() {
    let engine = engine(slow);
    let mut rig = Rig::new(engine, 2, 512);
    rig.sim = Sim::at(0, TEMPO);
    rig.params.length = 1;
    rig.params.strength = 1.0;
    rig.params.choice.steps = 200;
    rig.capture(512, &signal, false);
    rig.pump_until("the render to start", |r| r.status().rendering.load(Ordering::Acquire));
    let started = std::time::Instant::now();
    drop(rig.bridge.take());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The engine is free again: another instance's render completes.
    let mut other = Rig::new(engine, 1, 512);
    other.sim = Sim::none();
    other.params.length = 1;
    other.capture(512, &signal, false);
    other.pump_rendered();
    assert_eq!(other.status().renders_finished.load(Ordering::Acquire), 1);
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
