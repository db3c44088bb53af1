//! Crash points: a child process (this test binary again, with `REDANCE_CRASH_STAGE`) captures and
//! renders, saves the state as a host saves a project at one stage, and is killed with SIGKILL; the
//! parent reopens that state on the same data folder. No completed capture or take may be lost, even
//! one made after the host's last save (the recovery journal brings it back), and every file the
//! state names must be whole (files are written to a temporary name, synced, renamed, and the folder
//! synced).
#![allow(clippy::needless_range_loop)] // channels are indexed alongside other per-channel data

mod common;

use common::*;
use redance_engine::denoiser::{Denoiser, fake};
use redance_engine::model::ModelInfo;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A model whose every call blocks for good: the child's render never ends (killed mid-render).
struct Stuck(ModelInfo);

impl Denoiser for Stuck {
    fn info(&self) -> &ModelInfo {
        &self.0
    }
    fn predict_v(&mut self, _x: &[f32], _t: &[f32], _frames: usize, _v: &mut [f32]) -> redance_engine::Result<()> {
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

fn stuck() -> Box<dyn Denoiser> {
    Box::new(Stuck(fake::info(4096)))
}

/// The stages a process may die after, each with what the host had saved by then.
#[derive(Clone, Copy, Debug)]
enum Stage {
    /// Capture complete, Auto render off: saved before any render.
    Captured,
    /// Saved while "Rendering take 1…".
    MidRender,
    /// The take written and saved.
    TakeWritten,
    /// Saved mid-render, then the take was written, then the process died before the next save.
    TakeWrittenUnsaved,
    /// The project saved with the instance before anything was captured; then a capture, killed
    /// mid-render, never saved again.
    CapturedNeverSaved,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Captured => "captured",
            Stage::MidRender => "mid-render",
            Stage::TakeWritten => "take-written",
            Stage::TakeWrittenUnsaved => "take-written-unsaved",
            Stage::CapturedNeverSaved => "captured-never-saved",
        }
    }

    fn parse(s: &str) -> Stage {
        [Stage::Captured, Stage::MidRender, Stage::TakeWritten, Stage::TakeWrittenUnsaved, Stage::CapturedNeverSaved]
            .into_iter()
            .find(|st| st.name() == s)
            .unwrap_or_else(|| panic!("unknown stage {s}"))
    }
}

/// What a host does when it saves: the plugin's takes field as the plugin gives it, written whole
/// (temporary file, then renamed).
fn host_save(path: &Path, rig: &Rig) {
    let value = host_state(rig);
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(&value).unwrap()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The child's side: runs only when the parent starts it with a stage; never returns (killed).
#[test]
fn crash_child() {
    let Ok(stage) = std::env::var("REDANCE_CRASH_STAGE") else { return };
    let stage = Stage::parse(&stage);
    let dir = PathBuf::from(std::env::var("REDANCE_CRASH_DIR").unwrap());
    let state = dir.join("project.json");
    let make = match stage {
        Stage::MidRender | Stage::CapturedNeverSaved => stuck,
        Stage::TakeWrittenUnsaved => held,
        _ => zero,
    };
    HOLD.store(matches!(stage, Stage::TakeWrittenUnsaved), Ordering::Release);
    let mut rig = Rig::with_dir(engine(make), 2, 256, dir.join("data"));
    if let Stage::Captured = stage {
        rig.params.choice.auto_render = false;
    }
    if let Stage::CapturedNeverSaved = stage {
        host_save(&state, &rig);
    }
    capture_bar_2(&mut rig, 0.5);
    eprintln!("child {}: captured", stage.name());
    rig.wait_for("the saved capture", |r| !r.manifest()["source"].is_null());
    eprintln!("child {}: capture saved", stage.name());
    match stage {
        Stage::Captured => {}
        Stage::MidRender => {
            rig.wait_for("the pending entry", |r| r.manifest().get("pending").is_some());
        }
        Stage::CapturedNeverSaved => {
            rig.wait_for("the pending entry", |r| r.manifest().get("pending").is_some());
            println!("READY");
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        Stage::TakeWritten => rig.pump_rendered(),
        Stage::TakeWrittenUnsaved => {
            rig.wait_for("the pending entry", |r| r.manifest().get("pending").is_some());
            host_save(&state, &rig);
            HOLD.store(false, Ordering::Release);
            rig.pump_rendered();
            rig.wait_for("the take written", |r| r.manifest().get("pending").is_none());
            println!("READY");
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    host_save(&state, &rig);
    println!("READY");
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Runs the child to `stage`, kills it with SIGKILL, returns the saved state.
fn crash_at(stage: Stage, dir: &Path) -> serde_json::Value {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env("REDANCE_CRASH_STAGE", stage.name())
        .env("REDANCE_CRASH_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            eprintln!("child: {line}");
            if line.contains("READY") {
                let _ = tx.send(());
            }
        }
    });
    let ready = rx.recv_timeout(Duration::from_secs(120));
    child.kill().unwrap(); // SIGKILL: no destructor, no flush, no last save
    child.wait().unwrap();
    assert!(ready.is_ok(), "{}: the child never reached its stage", stage.name());
    serde_json::from_slice(&std::fs::read(dir.join("project.json")).unwrap()).unwrap()
}

/// Every file the state names reads back whole, with its hash.
fn files_are_whole(data: &Path, state: &serde_json::Value) {
    let mut files = vec![&state["source"]["file"]];
    if let Some(h) = state["history"].as_array() {
        files.extend(h.iter().map(|t| &t["file"]));
    }
    for f in files.into_iter().filter(|f| !f.is_null()) {
        let file: redance::state::manifest::FileRef = serde_json::from_value(f.clone()).unwrap();
        redance::state::files::load(data, &file).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// The reopened project: the state loaded into a fresh instance on the same data folder.
fn reopen(dir: &Path, state: &serde_json::Value) -> Rig {
    let mut rig = Rig::with_dir(engine(zero), 2, 256, dir.join("data"));
    load(&mut rig, state.clone());
    let msg = rig.status().message();
    assert!(!rig.status().message_is_error.load(Ordering::Acquire), "{msg}");
    rig
}

/// The take heard in place on bar 2 (silent input elsewhere, so the output is the take).
fn plays_in_place(rig: &mut Rig) {
    rig.sim = Sim::at(BAR - 500, TEMPO);
    let out = rig.run(4_500, 256, &silence);
    for c in 0..2 {
        assert!(out[c][..500].iter().all(|s| *s == 0.0), "sound before the bar line");
        assert!(out[c][500..].iter().any(|s| *s != 0.0), "no take on bar 2");
    }
}

#[test]
fn killed_after_the_capture_keeps_the_capture() {
    let dir = tempfile::tempdir().unwrap();
    let state = crash_at(Stage::Captured, dir.path());
    files_are_whole(&dir.path().join("data"), &state);
    assert_eq!(state["source"]["start_pos"], BAR, "{state}");
    let mut rig = reopen(dir.path(), &state);
    assert_eq!(rig.manifest()["source"], state["source"]);
    // The reopened capture renders on request.
    rig.press_render();
    rig.pump_rendered();
    rig.wait_for("the take", |r| r.status().renders_finished.load(Ordering::Acquire) == 1);
    plays_in_place(&mut rig);
}

#[test]
fn killed_mid_render_renders_again_on_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let state = crash_at(Stage::MidRender, dir.path());
    files_are_whole(&dir.path().join("data"), &state);
    assert!(state.get("pending").is_some(), "{state}");
    let mut rig = reopen(dir.path(), &state);
    rig.wait_for("the re-rendered take", |r| r.status().renders_finished.load(Ordering::Acquire) == 1);
    assert!(rig.manifest().get("pending").is_none());
    plays_in_place(&mut rig);
}

#[test]
fn killed_after_the_take_was_written_keeps_the_take() {
    let dir = tempfile::tempdir().unwrap();
    let state = crash_at(Stage::TakeWritten, dir.path());
    files_are_whole(&dir.path().join("data"), &state);
    assert!(state.get("pending").is_none() && state["current"].is_u64(), "{state}");
    let mut rig = reopen(dir.path(), &state);
    assert_eq!(rig.status().renders_finished.load(Ordering::Acquire), 0, "restored, not rendered again");
    assert_eq!(rig.manifest()["current"], state["current"]);
    plays_in_place(&mut rig);
}

#[test]
fn killed_after_an_unsaved_take_recovers_the_take_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let state = crash_at(Stage::TakeWrittenUnsaved, dir.path());
    files_are_whole(&dir.path().join("data"), &state);
    assert!(state.get("pending").is_some(), "saved mid-render: {state}");
    let mut rig = reopen(dir.path(), &state);
    let msg = rig.status().message();
    assert!(msg.starts_with("Recovered take 1"), "{msg}");
    assert_eq!(rig.status().renders_finished.load(Ordering::Acquire), 0, "recovered, not rendered again");
    let m = rig.manifest();
    assert!(m.get("pending").is_none() && m["current"] == 1, "{m}");
    files_are_whole(&dir.path().join("data"), &m);
    plays_in_place(&mut rig);
    // Nothing half-written left where the takes are read from.
    for f in std::fs::read_dir(dir.path().join("data/takes")).unwrap() {
        let name = f.unwrap().file_name().to_string_lossy().into_owned();
        assert!(name.ends_with(".wav") && !name.starts_with('.'), "{name}");
    }
}

#[test]
fn killed_after_a_capture_the_host_never_saved_recovers_the_capture() {
    let dir = tempfile::tempdir().unwrap();
    let state = crash_at(Stage::CapturedNeverSaved, dir.path());
    assert!(state["source"].is_null() && state["journal"]["id"].is_string(), "saved before the capture: {state}");
    // Reopening recovers the capture from the journal and renders it (its message is soon replaced
    // by the take's).
    let mut rig = reopen(dir.path(), &state);
    assert_eq!(rig.manifest()["source"]["start_pos"], BAR);
    rig.wait_for("the re-rendered take", |r| r.status().renders_finished.load(Ordering::Acquire) == 1);
    assert!(rig.manifest().get("pending").is_none());
    plays_in_place(&mut rig);
}
