//! A clack-host test host for the bundled Redance.clap: one activated instance with its buffers, a
//! transport with tempo and bars, parameters by string id, state save/load. The tests are in tests/:
//! `clap.rs` (the engine's zero fake model: exact placement) and `real.rs` (the built-in model).
//!
//! The bundle is `$REDANCE_CLAP` or `target/bundled/Redance.clap`. It must exist and be newer than
//! every source it is built from: a missing or stale bundle fails the tests (build it with
//! `cargo xtask bundle redance --release`, or run `scripts/test.sh`, which builds the debug bundle
//! with `assert_process_allocs` and runs these tests on it once).
#![allow(clippy::needless_range_loop)] // channels are indexed alongside other per-channel data

use clack_extensions::state::PluginState;
use clack_host::events::event_types::{ParamValueEvent, TransportEvent, TransportFlags};
use clack_host::events::{EventFlags, EventHeader};
use clack_host::prelude::*;
use clack_host::utils::FixedPoint;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

pub struct Shared;
impl SharedHandler<'_> for Shared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}
pub struct Host;
impl HostHandlers for Host {
    type Shared<'a> = Shared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The newest modification time under `path` (files only).
fn newest(path: &Path) -> Option<(SystemTime, PathBuf)> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_file() {
        return Some((meta.modified().ok()?, path.to_owned()));
    }
    std::fs::read_dir(path).ok()?.filter_map(|e| newest(&e.ok()?.path())).max_by_key(|(t, _)| *t)
}

/// Which engine the plugin uses in this test process (one per process: it is read from the
/// environment when an instance is created).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TestEngine {
    /// `REDANCE_TEST_ENGINE=zero`: the engine's do-nothing model; strength 0 returns the capture.
    Zero,
    /// The built-in default model through ONNX Runtime (this checkout's `target/onnxruntime/cpu`).
    Real,
}

/// The bundle under test; panics (fails the test) when it is missing or older than its sources.
/// Sets up the process once: a private data folder and the engine.
pub fn bundle(engine: TestEngine) -> PathBuf {
    let root = root();
    // REDANCE_CLAP: another build, e.g. the debug bundle that aborts when process() allocates.
    let path = std::env::var_os("REDANCE_CLAP").map_or_else(|| root.join("target/bundled/Redance.clap"), PathBuf::from);
    let Some((built, _)) = newest(&path) else {
        panic!(
            "{} is missing: build it first (`cargo xtask bundle redance --release`, or run scripts/test.sh)",
            path.display()
        );
    };
    for source in ["src", "engine/src", "models/default", "Cargo.toml", "Cargo.lock", "engine/Cargo.toml"] {
        if let Some((changed, file)) = newest(&root.join(source)) {
            assert!(
                changed <= built,
                "{} is stale: {} changed after it was built; rebuild it (`cargo xtask bundle redance --release`)",
                path.display(),
                file.display()
            );
        }
    }
    static ENV: OnceLock<(TestEngine, tempfile::TempDir)> = OnceLock::new();
    let (set, _) = ENV.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: set once, before any plugin thread exists in this process.
        unsafe {
            std::env::set_var("REDANCE_DATA_DIR", dir.path());
            match engine {
                TestEngine::Zero => std::env::set_var("REDANCE_TEST_ENGINE", "zero"),
                TestEngine::Real => {
                    std::env::remove_var("REDANCE_TEST_ENGINE");
                    let ort = root.join("target/onnxruntime/cpu/libonnxruntime.so");
                    if std::env::var_os("ORT_DYLIB_PATH").is_none() && ort.exists() {
                        std::env::set_var("ORT_DYLIB_PATH", ort);
                    }
                    // Two cores on CI: keep the renders from oversubscribing them.
                    if std::env::var_os("REDANCE_THREADS").is_none() {
                        std::env::set_var("REDANCE_THREADS", "2");
                    }
                }
            }
        }
        (engine, dir)
    });
    assert_eq!(*set, engine, "one engine per test process");
    path
}

/// The plugin's data folder in this test process (`REDANCE_DATA_DIR`, set by [`bundle`]).
pub fn data_dir() -> PathBuf {
    std::env::var_os("REDANCE_DATA_DIR").expect("bundle() sets up the data folder first").into()
}

/// Loads the bundle's entry.
pub fn entry(path: &Path) -> PluginEntry {
    // SAFETY: loading our own bundle, whose init has no preconditions.
    unsafe { PluginEntry::load(path) }.unwrap()
}

/// nice-plug's CLAP parameter id for a string id.
pub fn param(id: &str) -> ClapId {
    let mut hash: u32 = 0;
    for b in id.bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(b as u32);
    }
    ClapId::new(hash & !(1 << 31))
}

/// A signal that differs at every frame, so a take off by one frame is caught.
pub fn signal(pos: i64, channel: usize) -> f32 {
    let x = (pos as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(channel as u64 * 0x1234_5678);
    ((x >> 40) as f32 / (1u64 << 24) as f32) - 0.5
}

/// A band-limited signal (tones from 300 Hz to 9 kHz, other phases per channel) at `rate`: it survives
/// resampling through the model's rate, and a shift by one frame changes it by far more than the
/// resampler's error (the 9 kHz tone alone moves by up to 0.2·2π·9/44.1 ≈ 0.26 per frame at 44.1 kHz).
pub fn tones(pos: i64, channel: usize, rate: f64) -> f32 {
    let t = pos as f64 / rate;
    let ph = channel as f64 * 0.7;
    (0.25 * (2.0 * std::f64::consts::PI * 300.0 * t + ph).sin()
        + 0.2 * (2.0 * std::f64::consts::PI * 2_300.0 * t + 2.0 * ph).sin()
        + 0.2 * (2.0 * std::f64::consts::PI * 9_000.0 * t + 3.0 * ph).sin()) as f32
}

fn transport(pos: i64, rate: f64, tempo: f64, playing: bool) -> TransportEvent {
    let beats = pos as f64 / rate * tempo / 60.0;
    let bar = (beats / 4.0).floor();
    let mut flags = TransportFlags::HAS_TEMPO
        | TransportFlags::HAS_BEATS_TIMELINE
        | TransportFlags::HAS_SECONDS_TIMELINE
        | TransportFlags::HAS_TIME_SIGNATURE;
    if playing {
        flags |= TransportFlags::IS_PLAYING;
    }
    TransportEvent {
        header: EventHeader::new_core(0, EventFlags::empty()),
        flags,
        song_pos_beats: FixedPoint::from_float(beats),
        song_pos_seconds: FixedPoint::from_float(pos as f64 / rate),
        tempo,
        tempo_inc: 0.0,
        loop_start_beats: FixedPoint::from_int(0),
        loop_end_beats: FixedPoint::from_int(0),
        loop_start_seconds: FixedPoint::from_int(0),
        loop_end_seconds: FixedPoint::from_int(0),
        bar_start: FixedPoint::from_float(bar * 4.0),
        bar_number: bar as i32,
        time_signature_numerator: 4,
        time_signature_denominator: 4,
    }
}

pub type Input<'a> = &'a dyn Fn(i64, usize) -> f32;

/// One activated instance and its buffers.
pub struct Session {
    instance: PluginInstance<Host>,
    processor: Option<StartedPluginAudioProcessor<Host>>,
    pub rate: f64,
    pub tempo: f64,
    pub max: usize,
    pub pos: i64,
    inputs: [Vec<f32>; 2],
    outputs: [Vec<f32>; 2],
    in_ports: AudioPorts,
    out_ports: AudioPorts,
}

impl Session {
    pub fn new(entry: &PluginEntry, rate: f64, max: usize) -> Session {
        let info = HostInfo::new("redance-clap-test", "Redance", "https://example.invalid", "0.1").unwrap();
        let instance = PluginInstance::<Host>::new(|_| Shared, |_| (), entry, c"org.redance.redance", &info).unwrap();
        let mut s = Session {
            instance,
            processor: None,
            rate,
            tempo: 120.0,
            max,
            pos: 0,
            inputs: [vec![0.0; max], vec![0.0; max]],
            outputs: [vec![0.0; max], vec![0.0; max]],
            in_ports: AudioPorts::with_capacity(2, 1),
            out_ports: AudioPorts::with_capacity(2, 1),
        };
        s.activate(rate, max);
        s
    }

    fn activate(&mut self, rate: f64, max: usize) {
        let config = PluginAudioConfiguration { sample_rate: rate, min_frames_count: 1, max_frames_count: max as u32 };
        self.processor = Some(self.instance.activate(|_, _| (), config).unwrap().start_processing().unwrap());
        self.rate = rate;
        self.max = max;
        self.inputs = [vec![0.0; max], vec![0.0; max]];
        self.outputs = [vec![0.0; max], vec![0.0; max]];
    }

    /// Deactivates and activates again at another rate and maximum block (a host changing its
    /// sample rate mid-session); the instance and its state stay.
    pub fn reactivate(&mut self, rate: f64, max: usize) {
        let p = self.processor.take().unwrap().stop_processing();
        self.instance.deactivate(p);
        self.activate(rate, max);
    }

    /// Frames of one 4/4 bar.
    pub fn bar(&self) -> i64 {
        (4.0 * 60.0 / self.tempo * self.rate).round() as i64
    }

    /// One block: params set at its start, input from `input`, output appended to `out`.
    pub fn block(&mut self, n: usize, playing: bool, params: &[(&str, f64)], input: Input, out: &mut [Vec<f32>; 2]) {
        for c in 0..2 {
            for i in 0..n {
                self.inputs[c][i] = input(self.pos + i as i64, c);
            }
        }
        let events: Vec<ParamValueEvent> =
            params.iter().map(|(id, v)| ParamValueEvent::new(0, param(id), Pckn::match_all(), *v)).collect();
        let transport = transport(self.pos, self.rate, self.tempo, playing);
        let (ins, outs) = (&mut self.inputs, &mut self.outputs);
        let input_audio = self.in_ports.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(ins.iter_mut().map(|b| InputChannel::variable(&mut b[..n]))),
        }]);
        let mut output_audio = self.out_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(outs.iter_mut().map(|b| &mut b[..n])),
        }]);
        let mut out_events = EventBuffer::new();
        self.processor
            .as_mut()
            .unwrap()
            .process(
                &input_audio,
                &mut output_audio,
                &InputEvents::from_buffer(&events),
                &mut OutputEvents::from_buffer(&mut out_events),
                None,
                Some(&transport),
            )
            .unwrap();
        for c in 0..2 {
            out[c].extend_from_slice(&self.outputs[c][..n]);
        }
        if playing {
            self.pos += n as i64;
        }
    }

    pub fn save(&mut self) -> Vec<u8> {
        let handle = self.instance.plugin_handle();
        let state: PluginState = handle.get_extension().unwrap();
        let mut bytes = Vec::new();
        state.save(&handle, &mut bytes).unwrap();
        bytes
    }

    pub fn load(&mut self, bytes: &[u8]) {
        let handle = self.instance.plugin_handle();
        let state: PluginState = handle.get_extension().unwrap();
        state.load(&handle, &mut &bytes[..]).unwrap();
    }

    pub fn close(mut self) {
        let p = self.processor.take().unwrap().stop_processing();
        self.instance.deactivate(p);
    }

    /// Captures bar 2 (Capture raised in bar 1, one bar long) from `input`, with `params` (CLAP
    /// values: plain for stepped parameters, normalised otherwise) set first.
    pub fn capture_bar_2(&mut self, params: &[(&str, f64)], input: Input) {
        let bar = self.bar();
        let mut sink = [Vec::new(), Vec::new()];
        self.pos = bar / 3;
        let mut first: Vec<(&str, f64)> =
            vec![("length", 0.0), ("strength", 0.0), ("capture", 0.0), ("mix", 1.0), ("loop", 0.0)];
        first.extend_from_slice(params);
        self.block(1, true, &first, input, &mut sink);
        let mut raised = false;
        let mut sz = sizes(self.max);
        while self.pos < 2 * bar + 10 {
            let n = sz.next().unwrap();
            let p: &[(&str, f64)] = if raised { &[] } else { &[("capture", 1.0)] };
            raised = true;
            self.block(n, true, p, input, &mut sink);
        }
    }

    /// Replays `frames` from `from` with silent input (odd block sizes), after draining the take
    /// with the transport stopped, until `done` holds or `limit` passes (a hang guard, not a
    /// measure of speed); returns the last replay.
    pub fn replay_until(
        &mut self,
        from: i64,
        frames: usize,
        limit: Duration,
        done: &dyn Fn(&[Vec<f32>; 2]) -> bool,
    ) -> [Vec<f32>; 2] {
        let start = Instant::now();
        let mut sink = [Vec::new(), Vec::new()];
        loop {
            for _ in 0..20 {
                self.block(self.max.min(512), false, &[], &|_, _| 0.0, &mut sink);
            }
            sink = [Vec::new(), Vec::new()];
            self.pos = from;
            let mut out = [Vec::new(), Vec::new()];
            let mut sz = sizes(self.max);
            while out[0].len() < frames {
                let n = sz.next().unwrap().min(frames - out[0].len());
                self.block(n, true, &[], &|_, _| 0.0, &mut out);
            }
            // The take streams in window by window: replay until all of it is there.
            if done(&out) || start.elapsed() > limit {
                return out;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Block sizes cycling through odd lengths up to the maximum.
pub fn sizes(max: usize) -> impl Iterator<Item = usize> {
    [1usize, 17, 333, 8192, 64, 4096, 5].into_iter().map(move |n| n.min(max)).cycle()
}

/// The source [`tones_take`] captures: [`tones`] at 48 kHz.
pub fn tones_48k(pos: i64, channel: usize) -> f32 {
    tones(pos, channel, 48_000.0)
}

/// A take rendered by the plugin (the real engine): bar 2 of [`tones_48k`] at 240 BPM (one bar is one
/// second) captured with
/// strength 0.6, 3 DDIM steps (CLAP values: Steps index 2, Sampler index 0), `seed` and Auto render,
/// then replayed from `bar − 1000` until the take has arrived or `limit` passes (a hang guard).
/// Returns the replay, the bar length and whether the take arrived; the session is closed.
pub fn tones_take(entry: &PluginEntry, seed: f64, limit: Duration) -> ([Vec<f32>; 2], i64, bool) {
    let mut s = Session::new(entry, 48_000.0, 512);
    s.tempo = 240.0;
    let bar = s.bar();
    let params = [("strength", 0.6), ("steps", 2.0), ("sampler", 0.0), ("seed", seed), ("mode", 0.0), ("auto", 1.0)];
    s.capture_bar_2(&params, &tones_48k);
    // Where the take has not arrived, playback is dry silence (exact zeros).
    let done = |out: &[Vec<f32>; 2]| {
        (0..2).all(|c| out[c][1_000..1_000 + bar as usize].iter().filter(|x| **x == 0.0).count() < 16)
    };
    let out = s.replay_until(bar - 1_000, bar as usize + 2_000, limit, &done);
    let arrived = done(&out);
    s.close();
    (out, bar, arrived)
}

/// The take a replay from `bar − 1000` heard (`out`) against `redance render` of the same capture:
/// bar 2 of `input` (what [`Session::capture_bar_2`] captured) is written as a float WAV, rendered by
/// `cli` with `args` (model, settings), and compared frame by frame. Returns (max |take − CLI
/// render|, max |take − source|).
pub fn take_vs_cli(cli: &Path, args: &[&str], out: &[Vec<f32>; 2], bar: i64, input: Input) -> (f32, f32) {
    let dir = tempfile::tempdir().unwrap();
    let (src, rendered) = (dir.path().join("capture.wav"), dir.path().join("cli.wav"));
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&src, spec).unwrap();
    for i in 0..bar {
        for c in 0..2 {
            w.write_sample(input(bar + i, c)).unwrap();
        }
    }
    w.finalize().unwrap();
    let o = std::process::Command::new(cli)
        .arg("render")
        .arg("-i")
        .arg(&src)
        .arg("-o")
        .arg(&rendered)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "redance render: {}", String::from_utf8_lossy(&o.stderr));
    let expected: Vec<f32> = hound::WavReader::open(&rendered).unwrap().samples::<f32>().map(Result::unwrap).collect();
    assert_eq!(expected.len(), 2 * bar as usize);
    let (mut diff, mut moved) = (0.0f32, 0.0f32);
    for i in 0..bar as usize {
        for c in 0..2 {
            let take = out[c][1_000 + i];
            diff = diff.max((take - expected[2 * i + c]).abs());
            moved = moved.max((take - input(bar + i as i64, c)).abs());
        }
    }
    (diff, moved)
}
