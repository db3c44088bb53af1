//! A capture saved before its render finished: the state holds the source and a pending entry from
//! the moment the capture completes, a reopened project renders it again and plays the take in
//! place, a take finished after a save is in the next save, and a damaged entry leaves dry audio and
//! a message in words.
#![allow(clippy::needless_range_loop)] // channels are indexed alongside other per-channel data

mod common;

use common::*;
use std::sync::atomic::Ordering;

fn takes_file(rig: &Rig, entry: &serde_json::Value) -> std::path::PathBuf {
    rig.data_dir.join("takes").join(entry["file"]["name"].as_str().unwrap())
}

#[test]
fn saved_mid_render_then_reopened_renders_again_and_plays_in_place() {
    let dir = tempfile::tempdir().unwrap();
    HOLD.store(true, Ordering::Release);
    let mut first = Rig::with_dir(engine(held), 2, 256, dir.path().into());
    capture_bar_2(&mut first, 0.5);
    first.wait_for("the pending entry", |r| r.manifest().get("pending").is_some());
    // Saved now, while "Rendering take 1…".
    let mid = first.manifest();
    assert!(first.status().rendering.load(Ordering::Acquire));
    assert_eq!(mid["version"], 2);
    assert_eq!(mid["history"], serde_json::json!([]), "{mid}");
    let pending = &mid["pending"];
    assert_eq!(pending["source"], mid["source"], "the capture is the source the editor shows");
    assert_eq!(pending["source"]["start_pos"], BAR);
    assert_eq!(pending["steps"], 2);
    assert_eq!(pending["mode"], "variation");
    let curve = pending["source"]["strength"].as_array().unwrap();
    assert!(curve.len() > 1 && curve.iter().all(|s| (s.as_f64().unwrap() - 0.5).abs() < 1e-6), "{curve:?}");
    // Its file is complete on disk: it reads back with the saved hash.
    let file: redance::state::manifest::FileRef = serde_json::from_value(pending["source"]["file"].clone()).unwrap();
    let source = redance::state::files::load(dir.path(), &file).unwrap();
    assert_eq!(source.frames(), BAR as usize);
    for i in 0..source.frames() {
        assert_eq!(source.channels[1][i], signal(BAR + i as i64, 1), "frame {i}");
    }
    // Nothing but complete files in the takes folder (written under a temporary name, then renamed).
    for f in std::fs::read_dir(dir.path().join("takes")).unwrap() {
        let name = f.unwrap().file_name().to_string_lossy().into_owned();
        assert!(name.ends_with(".wav") && !name.starts_with('.'), "{name}");
    }

    // The render ends after the save: the next save has the take and no pending render.
    HOLD.store(false, Ordering::Release);
    first.pump_rendered();
    let after = first.manifest();
    assert!(after.get("pending").is_none(), "{after}");
    assert_eq!(after["history"].as_array().unwrap().len(), 1);
    assert_eq!(after["current"], after["history"][0]["id"]);
    assert!(takes_file(&first, &after["history"][0]).exists());
    first.sim = Sim::at(BAR - 500, TEMPO);
    let played = first.run(4_500, 256, &silence);
    drop(first);
    // Closed mid-render: the render is cancelled, so no journal gets further than the save. (This
    // instance went on to finish it; a reopened project would recover that take: tests/crash_points.rs.)
    std::fs::remove_dir_all(dir.path().join("journal")).unwrap();

    // The project as saved mid-render, reopened.
    let mut fresh = Rig::with_dir(engine(zero), 2, 256, dir.path().into());
    load(&mut fresh, mid.clone());
    let msg = fresh.status().message();
    assert!(msg.contains("re-rendered from the capture saved before the render finished"), "{msg}");
    assert!(!fresh.status().message_is_error.load(Ordering::Acquire), "{msg}");
    let resaved = fresh.manifest();
    assert!(resaved.get("pending").is_none(), "{resaved}");
    assert_eq!(resaved["source"], mid["source"]);
    assert_eq!(resaved["history"][0]["file"], after["history"][0]["file"], "not the take of the first render");
    fresh.sim = Sim::at(BAR - 500, TEMPO);
    let out = fresh.run(4_500, 256, &silence);
    for c in 0..2 {
        assert!(out[c][..500].iter().all(|s| *s == 0.0), "sound before the bar line");
        for i in 500..4_500 {
            assert_eq!(out[c][i], played[c][i], "channel {c}, frame {i}: not the take in place");
        }
    }
}

/// A state saved mid-render, made from a rendered one: its source as the pending capture.
fn pending_state(rig: &Rig) -> serde_json::Value {
    let mut m = rig.manifest();
    m["version"] = 2.into();
    m["pending"] = serde_json::json!({
        "source": m["source"].clone(), "mode": "variation", "seed": 0, "steps": 2, "sampler": "ddim", "position": 0.5
    });
    m["history"] = serde_json::json!([]);
    m["current"] = serde_json::Value::Null;
    m
}

fn rendered(dir: &std::path::Path) -> Rig {
    let mut rig = Rig::with_dir(engine(zero), 2, 256, dir.into());
    capture_bar_2(&mut rig, 0.5);
    rig.pump_rendered();
    rig
}

#[test]
fn a_damaged_pending_entry_says_so_and_the_track_plays_dry() {
    for damage in ["missing", "changed", "curve"] {
        let dir = tempfile::tempdir().unwrap();
        let rig = rendered(dir.path());
        let mut state = pending_state(&rig);
        let path = takes_file(&rig, &state["source"]);
        drop(rig);
        match damage {
            "missing" => std::fs::remove_file(&path).unwrap(),
            "changed" => {
                let mut audio = redance_engine::Audio::read_wav(&path).unwrap();
                audio.channels[0][10] += 0.5;
                audio.write_wav(&path).unwrap();
            }
            _ => state["pending"]["source"]["strength"] = serde_json::json!([]),
        }
        let mut fresh = Rig::with_dir(engine(zero), 2, 256, dir.path().into());
        load(&mut fresh, state.clone());
        let msg = fresh.status().message();
        assert!(fresh.status().message_is_error.load(Ordering::Acquire), "{damage}: {msg}");
        assert!(msg.contains("the capture saved before its render finished cannot be rendered again"), "{msg}");
        let why = match damage {
            "missing" => "missing",
            "changed" => "changed",
            _ => "strength curve is damaged",
        };
        assert!(msg.contains(why), "{damage}: {msg}");
        assert_eq!(fresh.status().renders_finished.load(Ordering::Acquire), 0, "{damage}: rendered anyway");
        // The saved state is kept as it was, and the region plays dry.
        assert_eq!(fresh.manifest(), state);
        fresh.sim = Sim::at(BAR - 500, TEMPO);
        let out = fresh.run(4_500, 256, &signal);
        for c in 0..2 {
            for i in 0..4_500 {
                assert_eq!(out[c][i], signal(BAR - 500 + i as i64, c), "{damage}: channel {c}, frame {i} not dry");
            }
        }
    }
}

#[test]
fn a_pending_render_of_a_state_with_a_take_of_the_same_region_replaces_it() {
    // Take 1 saved, then a re-render of the same region pending (a later seed) when the state was
    // taken: reopened, take 1 plays while the re-render streams in, then the new take is current.
    let dir = tempfile::tempdir().unwrap();
    let rig = rendered(dir.path());
    let mut state = rig.manifest();
    drop(rig);
    state["version"] = 2.into();
    state["pending"] = serde_json::json!({
        "source": state["source"].clone(), "mode": "variation", "seed": 9, "steps": 2, "sampler": "ddim", "position": 0.5
    });
    let mut fresh = Rig::with_dir(engine(zero), 2, 256, dir.path().into());
    load(&mut fresh, state.clone());
    let m = fresh.manifest();
    assert!(m.get("pending").is_none(), "{m}");
    let history = m["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{m}");
    assert_eq!(history[1]["seed"], 9);
    assert_eq!(m["current"], history[1]["id"]);
    assert_eq!(fresh.status().take_id_playing.load(Ordering::Acquire), history[1]["id"].as_u64().unwrap());
}

#[test]
fn a_version_1_state_still_loads_and_renders_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let rig = rendered(dir.path());
    let mut state = rig.manifest();
    drop(rig);
    state["version"] = 1.into();
    let mut fresh = Rig::with_dir(engine(zero), 2, 256, dir.path().into());
    load(&mut fresh, state.clone());
    assert!(fresh.status().message().contains("Take 1 restored"), "{}", fresh.status().message());
    assert_eq!(fresh.status().renders_finished.load(Ordering::Acquire), 0);
    assert_eq!(fresh.manifest(), state, "saved again as it was loaded");
}
