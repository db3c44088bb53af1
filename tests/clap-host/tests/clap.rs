//! Redance.clap in a clack-host test host, on the engine's zero fake model (strength 0 returns the
//! capture exactly): capture on the bar line, take placement to the sample, odd block sizes, other
//! rates and a rate change mid-session (band-limited tones, compared sample by sample), state
//! save/load, and unload with threads exiting afterwards. A missing or stale bundle fails (see lib.rs).
#![allow(clippy::needless_range_loop)] // channels are indexed alongside other per-channel data

use redance_clap_test::*;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// Max |out − expected| over `range` of a replay that started at `from`.
fn max_err(out: &[Vec<f32>; 2], from: i64, range: std::ops::Range<i64>, expected: &dyn Fn(i64, usize) -> f32) -> f32 {
    let mut err = 0.0f32;
    for c in 0..2 {
        for pos in range.clone() {
            err = err.max((out[c][(pos - from) as usize] - expected(pos, c)).abs());
        }
    }
    err
}

/// The resampler's error on `tones` through the model's rate and back, away from the take's edges
/// (measured: 1.1e-6 at 44.1 kHz, 2.9e-5 at 96 kHz, 7.8e-7 after the change from 48 to 44.1 kHz); a
/// take one frame off is wrong by 0.1 to 0.3.
const RESAMPLED: f32 = 2e-4;
/// Frames at each edge of a resampled take where the resampler's filter rings.
const EDGE: i64 = 256;

#[test]
fn capture_on_the_bar_and_take_in_place_to_the_sample_then_state_roundtrip() {
    let entry = entry(&bundle(TestEngine::Zero));
    let mut s = Session::new(&entry, 48_000.0, 8192);
    let bar = s.bar();
    assert_eq!(bar, 96_000);
    let expect = move |pos: i64, c: usize| if (bar..2 * bar).contains(&pos) { signal(pos, c) } else { 0.0 };
    let from = bar - 3_000;
    s.capture_bar_2(&[], &signal);
    let out = s.replay_until(from, (bar + 6_000) as usize, LIMIT, &|out| {
        max_err(out, from, from..2 * bar + 3_000, &expect) < 1e-4
    });
    for c in 0..2 {
        for (i, x) in out[c].iter().enumerate() {
            let pos = from + i as i64;
            assert!((x - expect(pos, c)).abs() < 1e-4, "channel {c} at {pos}: {x} != {}", expect(pos, c));
        }
    }
    let state = s.save();
    s.close();

    // A fresh instance hears the same take after loading the state.
    let mut fresh = Session::new(&entry, 48_000.0, 512);
    fresh.load(&state);
    let out = fresh.replay_until(bar, 10_000, LIMIT, &|out| max_err(out, bar, bar..bar + 10_000, &signal) < 1e-4);
    assert!(max_err(&out, bar, bar..bar + 10_000, &signal) < 1e-4, "the restored take never played");
    fresh.close();
}

/// Capture raised while the host's transport is stopped (it reports tempo and position, not
/// playing) waits for Play, then starts on the first bar line after it.
#[test]
fn capture_armed_while_stopped_starts_on_the_bar_line_after_play() {
    let entry = entry(&bundle(TestEngine::Zero));
    let mut s = Session::new(&entry, 48_000.0, 512);
    let bar = s.bar();
    let mut sink = [Vec::new(), Vec::new()];
    s.pos = bar / 3;
    let first = [("length", 0.0), ("strength", 0.0), ("capture", 0.0), ("mix", 1.0), ("loop", 0.0)];
    s.block(1, false, &first, &signal, &mut sink);
    s.block(512, false, &[("capture", 1.0)], &signal, &mut sink);
    // Two seconds stopped and armed: the position does not move, nothing may be captured.
    for _ in 0..190 {
        s.block(512, false, &[], &signal, &mut sink);
    }
    assert_eq!(s.pos, bar / 3);
    while s.pos < 2 * bar + 10 {
        s.block(512, true, &[], &signal, &mut sink);
    }
    let expect = move |pos: i64, c: usize| if (bar..2 * bar).contains(&pos) { signal(pos, c) } else { 0.0 };
    let from = bar - 3_000;
    let out = s.replay_until(from, (bar + 6_000) as usize, LIMIT, &|out| {
        max_err(out, from, from..2 * bar + 3_000, &expect) < 1e-4
    });
    let err = max_err(&out, from, from..2 * bar + 3_000, &expect);
    assert!(err < 1e-4, "the take is not bar 2 after Play (max error {err})");
    s.close();
}

#[test]
fn other_rates_align_to_the_bar() {
    let entry = entry(&bundle(TestEngine::Zero));
    for (rate, max) in [(44_100.0, 17usize), (96_000.0, 4096)] {
        let mut s = Session::new(&entry, rate, max);
        let bar = s.bar();
        let input = move |pos: i64, c: usize| tones(pos, c, rate);
        s.capture_bar_2(&[], &input);
        let from = bar - 2_000;
        let body = bar + EDGE..2 * bar - EDGE;
        let out = s.replay_until(from, (bar + 4_000) as usize, LIMIT, &|out| {
            max_err(out, from, body.clone(), &input) < RESAMPLED
        });
        // Dry silence up to the bar line, then the take (resampled through the model's rate and
        // back) in place, sample by sample, then silence again after the bar.
        assert!(out[0][..2_000].iter().all(|x| *x == 0.0), "{rate} Hz: sound before the bar line");
        let err = max_err(&out, from, body.clone(), &input);
        println!("{rate} Hz: max |take − source| inside the bar {err:.2e}");
        assert!(err < RESAMPLED, "{rate} Hz: the take is not the source in place: max error {err}");
        let after = max_err(&out, from, 2 * bar + EDGE..2 * bar + 2_000, &|_, _| 0.0);
        assert!(after < 1e-3, "{rate} Hz: sound after the bar: {after}");
        s.close();
    }
}

/// The host changes its sample rate between passes (deactivate, activate at 44.1 kHz): the take
/// captured at 48 kHz plays at the same musical place, resampled.
#[test]
fn a_sample_rate_change_mid_session_replays_the_take_in_place() {
    let entry = entry(&bundle(TestEngine::Zero));
    let mut s = Session::new(&entry, 48_000.0, 1024);
    s.capture_bar_2(&[], &|pos, c| tones(pos, c, 48_000.0));
    let source = |pos: i64, c: usize| tones(pos, c, 44_100.0);
    let bar48 = s.bar();
    let done = s.replay_until(bar48, 10_000, LIMIT, &|out| {
        max_err(out, bar48, bar48 + EDGE..bar48 + 10_000, &|p, c| tones(p, c, 48_000.0)) < 1e-4
    });
    assert!(max_err(&done, bar48, bar48 + EDGE..bar48 + 10_000, &|p, c| tones(p, c, 48_000.0)) < 1e-4);

    s.reactivate(44_100.0, 333);
    let bar = s.bar();
    assert_eq!(bar, 88_200);
    let from = bar - 2_000;
    let body = bar + EDGE..2 * bar - EDGE;
    let out = s.replay_until(from, (bar + 4_000) as usize, LIMIT, &|out| {
        max_err(out, from, body.clone(), &source) < RESAMPLED
    });
    assert!(out[0][..2_000].iter().all(|x| *x == 0.0), "sound before the bar line");
    let err = max_err(&out, from, body, &source);
    println!("48 → 44.1 kHz mid-session: max |take − source| inside the bar {err:.2e}");
    assert!(err < RESAMPLED, "after the rate change the take is not the source in place: max error {err}");
    s.close();
}

/// A state in the first plugin version's layout (tests/fixtures/state_0.1.0: no `status` or `editor`
/// field, the defaults of then) still loads: its take plays in place, its parameters keep their
/// values, and the next save has the fields added since, with their defaults.
#[test]
fn a_state_saved_by_the_first_version_still_loads() {
    let entry = entry(&bundle(TestEngine::Zero));
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/state_0.1.0");
    let takes = data_dir().join("takes");
    std::fs::create_dir_all(&takes).unwrap();
    for file in std::fs::read_dir(fixture.join("takes")).unwrap() {
        let file = file.unwrap();
        std::fs::copy(file.path(), takes.join(file.file_name())).unwrap();
    }
    let json = std::fs::read(fixture.join("state.json")).unwrap();
    let old: serde_json::Value = serde_json::from_slice(&json).unwrap();
    // nice-plug's CLAP state stream: the payload's length (u64, little-endian), then the payload.
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(&json);

    let mut s = Session::new(&entry, 48_000.0, 512);
    s.tempo = 960.0;
    s.load(&bytes);
    let bar = s.bar();
    assert_eq!(bar, 12_000);
    let source = |pos: i64, c: usize| tones(pos, c, 48_000.0);
    let out = s.replay_until(bar - 500, 13_000, LIMIT, &|out| max_err(out, bar - 500, bar..2 * bar, &source) < 1e-6);
    assert!(out[0][..500].iter().all(|x| *x == 0.0), "sound before the bar line");
    let err = max_err(&out, bar - 500, bar..2 * bar, &source);
    assert!(err < 1e-6, "the saved take does not play in place: max error {err}");

    let saved = s.save();
    let new: serde_json::Value = serde_json::from_slice(&saved[8..]).unwrap();
    for id in ["steps", "sampler", "strength", "length", "mode", "start_on", "seed"] {
        assert_eq!(new["params"][id], old["params"][id], "parameter {id}");
    }
    let takes = |v: &serde_json::Value| {
        serde_json::from_str::<serde_json::Value>(v["fields"]["takes"].as_str().unwrap()).unwrap()
    };
    assert_eq!(takes(&new), takes(&old), "the takes manifest");
    assert!(new["fields"]["editor"].is_string() && new["fields"]["status"].is_string(), "{new}");
    s.close();
}

#[test]
fn load_use_unload_then_threads_exit() {
    let path = bundle(TestEngine::Zero);
    // Several entries at once, each loaded, used and dropped on its own thread, which then exits:
    // this crashed about half the time before the library pinned itself.
    for _round in 0..3 {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let entry = entry(&path);
                    let mut s = Session::new(&entry, 48_000.0, 256);
                    let mut sink = [Vec::new(), Vec::new()];
                    for _ in 0..20 {
                        s.block(256, true, &[], &signal, &mut sink);
                    }
                    s.close();
                    drop(entry);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
}
