//! Takes across save and load: the manifest round trip, damaged and foreign states, missing files,
//! Keep, Export and the history.
#![allow(clippy::needless_range_loop)] // channels are indexed alongside other per-channel data

mod common;

use common::*;
use std::sync::atomic::Ordering;

/// A rig with one take of bar 2 rendered at strength 0 (the identity).
fn rendered(dir: Option<std::path::PathBuf>) -> Rig {
    rendered_at(dir, 0.0)
}

fn rendered_at(dir: Option<std::path::PathBuf>, strength: f32) -> Rig {
    let mut rig = match dir {
        Some(d) => Rig::with_dir(engine(zero), 2, 256, d),
        None => Rig::new(engine(zero), 2, 256),
    };
    capture_bar_2(&mut rig, strength);
    rig.pump_rendered();
    rig
}

/// At strength 0.5 (the take is not the source): the reopened instance plays the take the first one
/// played, in the same place, and not the source.
#[test]
fn take_survives_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = rendered_at(Some(dir.path().into()), 0.5);
    first.sim = Sim::at(BAR - 500, TEMPO);
    let played = first.run(4_500, 256, &silence);
    let saved = first.manifest();
    drop(first);
    let mut fresh = Rig::with_dir(engine(zero), 2, 256, dir.path().into());
    load(&mut fresh, saved.clone());
    assert!(fresh.status().message().contains("restored"), "{}", fresh.status().message());
    fresh.sim = Sim::at(BAR - 500, TEMPO);
    let out = fresh.run(4_500, 256, &silence);
    for c in 0..2 {
        assert!(out[c][..500].iter().all(|s| *s == 0.0), "sound before the bar line");
        for i in 500..4_500 {
            assert_eq!(out[c][i], played[c][i], "channel {c}, frame {i}: not the saved take");
        }
        let off = (500..4_500).map(|i| (out[c][i] - signal(BAR - 500 + i as i64, c)).abs()).fold(0.0f32, f32::max);
        assert!(off > 0.1, "the restored take is the source");
    }
    // The fresh instance saves what it loaded.
    assert_eq!(fresh.manifest(), saved);
}

#[test]
fn damaged_or_foreign_state_gives_a_message_and_nothing_else() {
    for bad in [
        serde_json::json!("garbage"),
        serde_json::json!({"format": "other-plugin"}),
        serde_json::json!({"format": "redance-takes", "version": 1, "history": 7}),
    ] {
        let mut rig = rendered(None);
        load(&mut rig, bad.clone());
        let msg = rig.status().message();
        assert!(rig.status().message_is_error.load(Ordering::Acquire), "{msg}");
        assert!(msg.contains("saved takes") && msg.contains("settings are kept"), "{msg}");
        // The damaged value is kept as it was (not overwritten until a new take exists).
        assert_eq!(rig.manifest(), bad);
        // Nothing plays from the old take, and the instance still works.
        rig.sim = Sim::at(BAR, TEMPO);
        let out = rig.run(1_000, 256, &silence);
        assert!(out[0].iter().all(|s| *s == 0.0));
    }
}

#[test]
fn missing_take_file_is_reported_and_the_source_kept() {
    let dir = tempfile::tempdir().unwrap();
    // Strength > 0: the take differs from the source, so they are two files.
    let saved = rendered_at(Some(dir.path().into()), 0.5).manifest();
    let take_file = saved["history"][0]["file"]["name"].as_str().unwrap().to_owned();
    std::fs::remove_file(dir.path().join("takes").join(&take_file)).unwrap();
    let mut fresh = Rig::with_dir(engine(zero), 2, 256, dir.path().into());
    load(&mut fresh, saved);
    let msg = fresh.status().message();
    assert!(msg.contains("missing") && msg.contains(&take_file), "{msg}");
    // The source came back: a render works.
    fresh.params.render = true;
    fresh.pump_until("the re-render", |r| r.status().renders_finished.load(Ordering::Acquire) == 1);
}

#[test]
fn changed_take_file_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let saved = rendered(Some(dir.path().into())).manifest();
    let name = saved["history"][0]["file"]["name"].as_str().unwrap().to_owned();
    let path = dir.path().join("takes").join(&name);
    let mut audio = redance_engine::Audio::read_wav(&path).unwrap();
    audio.channels[0][10] += 0.5;
    audio.write_wav(&path).unwrap();
    let mut fresh = Rig::with_dir(engine(zero), 2, 256, dir.path().into());
    load(&mut fresh, saved);
    assert!(fresh.status().message().contains("changed"), "{}", fresh.status().message());
}

#[test]
fn keep_export_and_history() {
    let mut rig = rendered(None);
    rig.params.choice.seed = 42;
    // Four more renders of the same source with other seeds.
    for k in 0..4 {
        rig.params.render = false;
        rig.run(256, 256, &silence);
        rig.params.choice.seed = 42 + k;
        rig.params.render = true;
        rig.pump_until("a render", move |r| r.status().renders_finished.load(Ordering::Acquire) == 2 + k);
        rig.pump_rendered();
    }
    rig.params.render = false;
    let m = rig.manifest();
    let history = m["history"].as_array().unwrap();
    assert_eq!(history.len(), 4, "the last four unkept takes stay");
    assert_eq!(m["current"], history[3]["id"]);

    rig.params.keep = true;
    rig.pump_until("keep", |r| r.manifest()["history"][3]["kept"] == serde_json::json!(true));
    rig.params.export = true;
    rig.pump_until("export", |r| r.status().message().contains("Exported"));
    let exports: Vec<_> =
        std::fs::read_dir(rig.data_dir.join("exports")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(exports.len(), 1);
    let name = exports[0].to_string_lossy().into_owned();
    assert!(name.starts_with("Redance-variation-s0.00-seed45-take5"), "{name}");
}

#[test]
fn a_take_picked_from_the_history_plays_and_is_saved_as_current() {
    // Take 1 at strength 0 (the source itself), take 2 at strength 1 (something else).
    let mut rig = rendered(None);
    rig.params.strength = 1.0;
    rig.params.render = false;
    rig.run(256, 256, &silence);
    rig.params.render = true;
    rig.pump_until("a second render", |r| r.status().renders_finished.load(Ordering::Acquire) == 2);
    rig.pump_rendered();
    rig.params.render = false;
    let first = rig.manifest()["history"][0]["id"].as_u64().unwrap();
    assert_ne!(rig.manifest()["current"].as_u64(), Some(first));

    rig.bridge.as_ref().unwrap().command(redance::boundary::BridgeCommand::SelectTake(first));
    let playing = format!("Playing take {first}");
    rig.pump_until("the pick", move |r| {
        r.status().message().contains(&playing) && r.manifest()["current"].as_u64() == Some(first)
    });
    rig.pump_rendered();
    // Take 1 is the identity: in place it plays the captured source again.
    rig.sim = Sim::at(BAR, TEMPO);
    let out = rig.run(4_000, 256, &silence);
    for (i, s) in out[0].iter().enumerate() {
        assert!((s - signal(BAR + i as i64, 0)).abs() < 1e-4, "frame {i}");
    }
    rig.bridge.as_ref().unwrap().command(redance::boundary::BridgeCommand::SelectTake(999));
    rig.pump_until("the refusal", |r| r.status().message().contains("no longer in the history"));
}

#[test]
fn editor_size_and_scale_are_saved_with_the_project() {
    use nice_plug::prelude::Params;
    use redance::params::RedanceParams;
    use redance::state::editor_layout::EditorLayout;

    let rig = Rig::new(engine(zero), 2, 256);
    let params = RedanceParams::new(rig.shared.clone());
    let layout = EditorLayout { width: 1200.0, height: 900.0, scale: 1.5 };
    *params.editor_layout.write() = layout;
    let fields = params.serialize_fields();
    let editor_only: std::collections::BTreeMap<_, _> = fields.into_iter().filter(|(k, _)| k == "editor").collect();
    assert_eq!(editor_only.len(), 1);

    let reopened = RedanceParams::new(rig.shared.clone());
    reopened.deserialize_fields(&editor_only);
    assert_eq!(*reopened.editor_layout.read(), layout);

    // A damaged value keeps the default, and the editor opens in range whatever was saved.
    let damaged = RedanceParams::new(rig.shared.clone());
    damaged.deserialize_fields(&[("editor".to_string(), "{\"width\": \"wide\"}".to_string())].into());
    assert_eq!(*damaged.editor_layout.read(), EditorLayout::default());
    let extreme = EditorLayout { width: -5.0, height: f32::INFINITY, scale: 40.0 }.sanitized();
    assert!(extreme.width >= 800.0 && extreme.height.is_finite() && extreme.scale <= 2.0);
}
