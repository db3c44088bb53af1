//! A test rig: the audio-thread core and its bridge over a fake engine, a simulated transport, and
//! `process` under `assert_no_alloc` (nice-plug's allocator aborts the test on any allocation).
#![allow(clippy::needless_range_loop)] // channels are indexed alongside other per-channel data
#![allow(dead_code)]

use nice_plug::params::persist::PersistentField;
use redance::boundary::HostConfig;
use redance::bridge::{Bridge, BridgeConfig};
use redance::params::RedanceParams;
use redance::rt::{RtCore, RtParams, TransportInfo};
use redance::shared::Shared;
use redance::state::SavedTakes;
use redance_engine::backend::Backend;
use redance_engine::denoiser::{Denoiser, fake};
use redance_engine::model::ModelInfo;
use redance_engine::{Engine, EngineConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub const RATE: f32 = 48_000.0;
/// The tests' tempo, and one 4/4 bar of it at [`RATE`].
pub const TEMPO: f64 = 120.0;
pub const BAR: i64 = 96_000;

/// A leaked engine whose model is built by `make` (one per test: engines are cheap until used).
pub fn engine(make: fn() -> Box<dyn Denoiser>) -> &'static Engine {
    Box::leak(Box::new(Engine::with_backend(
        EngineConfig::default(),
        Box::new(move |_| Ok(Backend { denoiser: make(), runtime: None, origin: "fake".into(), provider_note: None })),
    )))
}

pub fn zero() -> Box<dyn Denoiser> {
    Box::new(fake::Zero(fake::info(4096)))
}

pub fn failing() -> Box<dyn Denoiser> {
    Box::new(fake::Failing(fake::info(4096)))
}

/// A render slow enough to cancel or to wait for (20 ms a call).
pub fn slow() -> Box<dyn Denoiser> {
    Box::new(fake::Slow(fake::info(4096), Duration::from_millis(20)))
}

/// While set, every call of the [`held`] model waits: a render stays pending as long as a test needs.
pub static HOLD: AtomicBool = AtomicBool::new(false);

/// The zero model, held by [`HOLD`]: once released its take is the zero model's.
pub struct Held(pub ModelInfo);

impl Denoiser for Held {
    fn info(&self) -> &ModelInfo {
        &self.0
    }
    fn predict_v(&mut self, _x: &[f32], _t: &[f32], _frames: usize, v: &mut [f32]) -> redance_engine::Result<()> {
        while HOLD.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
        }
        v.fill(0.0);
        Ok(())
    }
}

pub fn held() -> Box<dyn Denoiser> {
    Box::new(Held(fake::info(4096)))
}

/// Captures bar 2 (armed at 0) at `strength`, 2 steps, on `rig`.
pub fn capture_bar_2(rig: &mut Rig, strength: f32) {
    rig.sim = Sim::at(0, TEMPO);
    rig.params.length = 1;
    rig.params.strength = strength;
    rig.params.choice.steps = 2;
    rig.capture(256, &signal, false);
}

/// What a host saves of the takes: the persisted field as the plugin gives it.
pub fn host_state(rig: &Rig) -> serde_json::Value {
    SavedTakes(rig.shared.clone()).map(|v| v.clone())
}

/// What a host does on loading a project: the takes field set; then the bridge restores it.
pub fn load(rig: &mut Rig, value: serde_json::Value) {
    SavedTakes(rig.shared.clone()).set(value);
    rig.pump_rendered();
}

/// A signal that differs at every frame, so a take off by one frame is caught.
pub fn signal(pos: i64, channel: usize) -> f32 {
    let x = (pos as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(channel as u64 * 0x1234_5678);
    ((x >> 40) as f32 / (1u64 << 24) as f32) - 0.5
}

/// A transport moving through a timeline at a tempo.
#[derive(Clone, Copy, Debug)]
pub struct Sim {
    pub playing: bool,
    pub tempo: Option<f64>,
    pub sig: (i32, i32),
    pub pos: i64,
    pub rate: f32,
    /// A tempo map: the tempo began at this sample, on this beat; beats then come rounded to
    /// 1/1920 like Ardour's, with the bar start exact.
    pub tempo_since: Option<(i64, f64)>,
}

impl Sim {
    pub fn at(pos: i64, tempo: f64) -> Self {
        Self { playing: true, tempo: Some(tempo), sig: (4, 4), pos, rate: RATE, tempo_since: None }
    }

    pub fn none() -> Self {
        Self { playing: false, tempo: None, sig: (4, 4), pos: 0, rate: RATE, tempo_since: None }
    }

    pub fn info(&self) -> TransportInfo {
        if !self.playing && self.tempo.is_none() {
            return TransportInfo::NONE;
        }
        let (since, since_beats) = self.tempo_since.unwrap_or((0, 0.0));
        let beats = self.tempo.map(|t| since_beats + (self.pos - since) as f64 / self.rate as f64 * t / 60.0);
        let bar_beats = self.sig.0 as f64 * 4.0 / self.sig.1 as f64;
        let (beats, bar_start) = match self.tempo_since {
            Some(_) => {
                (beats.map(|b| (b * 1920.0).round() / 1920.0), beats.map(|b| (b / bar_beats).floor() * bar_beats))
            }
            None => (beats, None),
        };
        TransportInfo {
            playing: self.playing,
            tempo_bpm: self.tempo,
            time_sig: Some(self.sig),
            pos_samples: Some(self.pos),
            pos_beats: beats,
            bar_start_beats: bar_start,
        }
    }

    /// Frames of one bar.
    pub fn bar_frames(&self) -> f64 {
        self.sig.0 as f64 * 4.0 / self.sig.1 as f64 * 60.0 / self.tempo.unwrap() * self.rate as f64
    }
}

pub struct Rig {
    pub shared: Arc<Shared>,
    pub bridge: Option<Bridge>,
    pub rt: RtCore,
    pub params: RtParams,
    pub sim: Sim,
    pub channels: usize,
    pub data_dir: PathBuf,
    /// Scratch block, allocated once.
    io: Vec<Vec<f32>>,
    _tmp: Option<tempfile::TempDir>,
}

impl Rig {
    pub fn new(engine: &'static Engine, channels: usize, max_block: usize) -> Rig {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let mut rig = Rig::with_dir(engine, channels, max_block, dir);
        rig._tmp = Some(tmp);
        rig
    }

    pub fn with_dir(engine: &'static Engine, channels: usize, max_block: usize, data_dir: PathBuf) -> Rig {
        let shared = Arc::new(Shared::default());
        // The rig runs far faster than real time; `offline` says when it bounces.
        let config = BridgeConfig {
            engine,
            data_dir: data_dir.clone(),
            export_dir: data_dir.join("exports"),
            detect_freewheel: false,
        };
        let bridge = Bridge::spawn(config, shared.clone());
        let rt_config = HostConfig::new(RATE, channels, max_block);
        let link = bridge.attach(rt_config);
        let rt = RtCore::new(rt_config, link, shared.clone());
        let params = RtParams { strength: 0.0, ..RedanceParams::default_rt_params() };
        Rig {
            shared,
            bridge: Some(bridge),
            rt,
            params,
            sim: Sim::none(),
            channels,
            data_dir,
            io: vec![vec![0.0; max_block]; channels],
            _tmp: None,
        }
    }

    /// Re-activation at another rate: new core, new rings, same bridge.
    pub fn reactivate(&mut self, rate: f32, max_block: usize) {
        let config = HostConfig::new(rate, self.channels, max_block);
        let link = self.bridge.as_ref().unwrap().attach(config);
        self.rt = RtCore::new(config, link, self.shared.clone());
        self.io = vec![vec![0.0; max_block]; self.channels];
        self.sim.rate = rate;
    }

    /// One block of `n` frames; input from `input(timeline pos, channel)`; returns output via `out`.
    pub fn block(&mut self, n: usize, input: &dyn Fn(i64, usize) -> f32, offline: bool, out: &mut [Vec<f32>]) {
        for (c, ch) in self.io.iter_mut().enumerate() {
            for (i, s) in ch[..n].iter_mut().enumerate() {
                *s = input(self.sim.pos + i as i64, c);
            }
        }
        let transport = self.sim.info();
        let params = self.params;
        let rt = &mut self.rt;
        let io = &mut self.io;
        nice_assert_no_alloc::assert_no_alloc(|| {
            let mut slices: [&mut [f32]; 2] = [&mut [], &mut []];
            let (a, b) = io.split_at_mut(1);
            slices[0] = &mut a[0][..n];
            let k = if let Some(second) = b.first_mut() {
                slices[1] = &mut second[..n];
                2
            } else {
                1
            };
            rt.process(&mut slices[..k], &transport, &params, offline);
        });
        for (c, o) in out.iter_mut().enumerate() {
            o.extend_from_slice(&self.io[c][..n]);
        }
        self.sim.pos += n as i64;
    }

    /// Runs `frames` frames in blocks of `block`, collecting the output.
    pub fn run(&mut self, frames: usize, block: usize, input: &dyn Fn(i64, usize) -> f32) -> Vec<Vec<f32>> {
        let mut out = vec![Vec::with_capacity(frames); self.channels];
        let mut done = 0;
        while done < frames {
            let n = block.min(frames - done);
            self.block(n, input, false, &mut out);
            done += n;
        }
        out
    }

    pub fn status(&self) -> &redance::status::Status {
        &self.shared.status
    }

    /// Waits (outside the audio thread) until `cond` holds.
    pub fn wait_for(&self, what: &str, cond: impl Fn(&Rig) -> bool) {
        let start = Instant::now();
        while !cond(self) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}; status: {}",
                self.shared.status.message()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits for the current render to end and its audio to be pushed.
    pub fn wait_rendered(&self) {
        self.wait_for("the render", |r| {
            let s = r.status();
            s.requests_sent.load(Ordering::Acquire) == s.requests_handled.load(Ordering::Acquire)
                && !s.rendering.load(Ordering::Acquire)
                && !s.streaming.load(Ordering::Acquire)
        });
    }

    pub fn manifest(&self) -> serde_json::Value {
        self.shared.saved.lock().clone()
    }
}

pub fn silence(_: i64, _: usize) -> f32 {
    0.0
}

impl Rig {
    /// Keeps the audio thread running (transport stopped, silent input) until `cond` holds.
    pub fn pump_until(&mut self, what: &str, cond: impl Fn(&Rig) -> bool) {
        let saved = self.sim;
        self.sim.playing = false;
        let start = Instant::now();
        let mut sink = vec![Vec::new(); self.channels];
        while !cond(self) {
            let s = self.status();
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}; status: {}; sent {} handled {} rendering {} streaming {} ready {} of {}",
                s.message(),
                s.requests_sent.load(Ordering::Acquire),
                s.requests_handled.load(Ordering::Acquire),
                s.rendering.load(Ordering::Acquire),
                s.streaming.load(Ordering::Acquire),
                s.take_frames_ready.load(Ordering::Acquire),
                s.take_frames_total.load(Ordering::Acquire)
            );
            let n = self.io[0].len().min(64);
            self.block(n, &silence, false, &mut sink);
            for s in sink.iter_mut() {
                s.clear();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        self.sim = saved;
    }

    /// The musician presses Render: the audio thread sees the parameter rise (a block with it off,
    /// then one with it on).
    pub fn press_render(&mut self) {
        self.params.render = false;
        self.run(256, 256, &silence);
        self.params.render = true;
        self.run(256, 256, &silence);
    }

    /// Pumps until the render ended and every frame of the take reached the audio thread.
    pub fn pump_rendered(&mut self) {
        self.pump_until("the take", |r| {
            let s = r.status();
            s.requests_sent.load(Ordering::Acquire) == s.requests_handled.load(Ordering::Acquire)
                && s.restore_requested.load(Ordering::Acquire) == s.restore_seen.load(Ordering::Acquire)
                && !s.rendering.load(Ordering::Acquire)
                && !s.streaming.load(Ordering::Acquire)
                && s.take_frames_ready.load(Ordering::Acquire) == s.take_frames_total.load(Ordering::Acquire)
        });
    }

    /// Arms a capture (one block with Capture off first, so the next is a rising edge) and runs
    /// until it completes; returns the input that was fed.
    pub fn capture(&mut self, block: usize, input: &dyn Fn(i64, usize) -> f32, offline: bool) {
        let before = self.status().captures_completed.load(Ordering::Acquire);
        let mut sink = vec![Vec::new(); self.channels];
        self.params.capture = false;
        self.block(block, input, offline, &mut sink);
        self.params.capture = true;
        let start = Instant::now();
        while self.status().captures_completed.load(Ordering::Acquire) == before {
            assert!(start.elapsed() < Duration::from_secs(120), "capture never completed");
            self.block(block, input, offline, &mut sink);
            for s in sink.iter_mut() {
                s.clear();
            }
        }
        self.params.capture = false;
    }
}
