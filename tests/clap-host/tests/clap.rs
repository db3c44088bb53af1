//! Redance.clap in a clack-host test host: transport with tempo and bars, capture on the bar line,
//! take placement to the sample, odd block sizes, several rates, state save/load, and unload with
//! threads exiting afterwards. Needs `cargo xtask bundle redance` first; skips (with a message)
//! without the bundle.
#![allow(clippy::needless_range_loop)] // channels are indexed alongside other per-channel data

use clack_extensions::state::PluginState;
use clack_host::events::event_types::{ParamValueEvent, TransportEvent, TransportFlags};
use clack_host::events::{EventFlags, EventHeader};
use clack_host::prelude::*;
use clack_host::utils::FixedPoint;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Shared;
impl SharedHandler<'_> for Shared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}
struct Host;
impl HostHandlers for Host {
    type Shared<'a> = Shared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

const TEMPO: f64 = 120.0;

fn bundle() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    // REDANCE_CLAP: another build, e.g. the debug bundle that aborts when process() allocates.
    let path = std::env::var_os("REDANCE_CLAP").map_or_else(|| root.join("target/bundled/Redance.clap"), PathBuf::from);
    if !path.exists() {
        eprintln!("SKIPPED: {} is missing; run `cargo xtask bundle redance --release` first", path.display());
        return None;
    }
    // One data folder and the fake engine for the whole test process, set before any load.
    static ENV: OnceLock<tempfile::TempDir> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: set once, before any plugin thread exists in this process.
        unsafe {
            std::env::set_var("REDANCE_DATA_DIR", dir.path());
            std::env::set_var("REDANCE_TEST_ENGINE", "zero");
        }
        dir
    });
    Some(path)
}

/// nice-plug's CLAP parameter id for a string id.
fn param(id: &str) -> ClapId {
    let mut hash: u32 = 0;
    for b in id.bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(b as u32);
    }
    ClapId::new(hash & !(1 << 31))
}

fn signal(pos: i64, channel: usize) -> f32 {
    let x = (pos as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(channel as u64 * 0x1234_5678);
    ((x >> 40) as f32 / (1u64 << 24) as f32) - 0.5
}

fn transport(pos: i64, rate: f64, playing: bool) -> TransportEvent {
    let beats = pos as f64 / rate * TEMPO / 60.0;
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
        tempo: TEMPO,
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

/// One activated instance and its buffers.
struct Session {
    instance: PluginInstance<Host>,
    processor: Option<StartedPluginAudioProcessor<Host>>,
    rate: f64,
    max: usize,
    pos: i64,
    inputs: [Vec<f32>; 2],
    outputs: [Vec<f32>; 2],
    in_ports: AudioPorts,
    out_ports: AudioPorts,
}

impl Session {
    fn new(entry: &PluginEntry, rate: f64, max: usize) -> Session {
        let info = HostInfo::new("redance-clap-test", "Redance", "https://example.invalid", "0.1").unwrap();
        let mut instance =
            PluginInstance::<Host>::new(|_| Shared, |_| (), entry, c"org.redance.redance", &info).unwrap();
        let config = PluginAudioConfiguration { sample_rate: rate, min_frames_count: 1, max_frames_count: max as u32 };
        let processor = instance.activate(|_, _| (), config).unwrap().start_processing().unwrap();
        Session {
            instance,
            processor: Some(processor),
            rate,
            max,
            pos: 0,
            inputs: [vec![0.0; max], vec![0.0; max]],
            outputs: [vec![0.0; max], vec![0.0; max]],
            in_ports: AudioPorts::with_capacity(2, 1),
            out_ports: AudioPorts::with_capacity(2, 1),
        }
    }

    /// One block: params set at its start, input from `input`, output appended to `out`.
    fn block(
        &mut self,
        n: usize,
        playing: bool,
        params: &[(&str, f64)],
        input: &dyn Fn(i64, usize) -> f32,
        out: &mut [Vec<f32>; 2],
    ) {
        for c in 0..2 {
            for i in 0..n {
                self.inputs[c][i] = input(self.pos + i as i64, c);
            }
        }
        let events: Vec<ParamValueEvent> =
            params.iter().map(|(id, v)| ParamValueEvent::new(0, param(id), Pckn::match_all(), *v)).collect();
        let transport = transport(self.pos, self.rate, playing);
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

    fn save(&mut self) -> Vec<u8> {
        let handle = self.instance.plugin_handle();
        let state: PluginState = handle.get_extension().unwrap();
        let mut bytes = Vec::new();
        state.save(&handle, &mut bytes).unwrap();
        bytes
    }

    fn load(&mut self, bytes: &[u8]) {
        let handle = self.instance.plugin_handle();
        let state: PluginState = handle.get_extension().unwrap();
        state.load(&handle, &mut &bytes[..]).unwrap();
    }

    fn close(mut self) {
        let p = self.processor.take().unwrap().stop_processing();
        self.instance.deactivate(p);
    }
}

/// Block sizes cycling through odd lengths up to the maximum.
fn sizes(max: usize) -> impl Iterator<Item = usize> {
    [1usize, 17, 333, 8192, 64, 4096, 5].into_iter().map(move |n| n.min(max)).cycle()
}

/// Captures bar 2 (armed in bar 1), then replays over it with silent input until the take is there
/// (`done`, or 60 s pass); returns the replayed output starting at `from`.
fn capture_and_replay(
    s: &mut Session,
    from: i64,
    frames: usize,
    done: &dyn Fn(&[Vec<f32>; 2]) -> bool,
) -> [Vec<f32>; 2] {
    let bar = (4.0 * 60.0 / TEMPO * s.rate) as i64;
    let mut sink = [Vec::new(), Vec::new()];
    s.pos = bar / 3;
    s.block(
        1,
        true,
        &[("length", 0.0), ("strength", 0.0), ("capture", 0.0), ("mix", 1.0), ("loop", 0.0)],
        &signal,
        &mut sink,
    );
    let mut first = true;
    let mut sz = sizes(s.max);
    while s.pos < 2 * bar + 10 {
        let n = sz.next().unwrap();
        let params: &[(&str, f64)] = if first { &[("capture", 1.0)] } else { &[] };
        first = false;
        s.block(n, true, params, &signal, &mut sink);
    }
    let start = Instant::now();
    loop {
        // Stopped transport while waiting: the audio thread drains the take.
        for _ in 0..20 {
            s.block(s.max.min(512), false, &[], &|_, _| 0.0, &mut sink);
        }
        s.pos = from;
        let mut out = [Vec::new(), Vec::new()];
        let mut sz = sizes(s.max);
        while out[0].len() < frames {
            let n = sz.next().unwrap().min(frames - out[0].len());
            s.block(n, true, &[], &|_, _| 0.0, &mut out);
        }
        // The take streams in window by window: replay until all of it is there.
        if done(&out) || start.elapsed() > Duration::from_secs(60) {
            return out;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn capture_on_the_bar_and_take_in_place_to_the_sample_then_state_roundtrip() {
    let Some(path) = bundle() else { return };
    // SAFETY: loading our own bundle, whose init has no preconditions.
    let entry = unsafe { PluginEntry::load(&path) }.unwrap();
    let bar = 96_000i64;
    let mut s = Session::new(&entry, 48_000.0, 8192);
    let expect = |pos: i64, c: usize| if (bar..2 * bar).contains(&pos) { signal(pos, c) } else { 0.0 };
    let matches = |out: &[Vec<f32>; 2]| {
        (0..2).all(|c| out[c].iter().enumerate().all(|(i, x)| (x - expect(bar - 3_000 + i as i64, c)).abs() < 1e-4))
    };
    let out = capture_and_replay(&mut s, bar - 3_000, (bar + 6_000) as usize, &matches);
    for c in 0..2 {
        for (i, x) in out[c].iter().enumerate() {
            let pos = bar - 3_000 + i as i64;
            assert!((x - expect(pos, c)).abs() < 1e-4, "channel {c} at {pos}: {x} != {}", expect(pos, c));
        }
    }
    let state = s.save();
    s.close();

    // A fresh instance hears the same take after loading the state.
    let mut fresh = Session::new(&entry, 48_000.0, 512);
    fresh.load(&state);
    let start = Instant::now();
    loop {
        let mut sink = [Vec::new(), Vec::new()];
        for _ in 0..50 {
            fresh.block(512, false, &[], &|_, _| 0.0, &mut sink);
        }
        fresh.pos = bar;
        let mut out = [Vec::new(), Vec::new()];
        while out[0].len() < 10_000 {
            fresh.block(500, true, &[], &|_, _| 0.0, &mut out);
        }
        let ok = out[0].iter().enumerate().all(|(i, x)| (x - signal(bar + i as i64, 0)).abs() < 1e-4);
        if ok {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "the restored take never played");
    }
    fresh.close();
}

#[test]
fn other_rates_align_to_the_bar() {
    let Some(path) = bundle() else { return };
    // SAFETY: as above.
    let entry = unsafe { PluginEntry::load(&path) }.unwrap();
    for (rate, max) in [(44_100.0, 17usize), (96_000.0, 4096)] {
        let bar = (2.0 * rate) as i64;
        let mut s = Session::new(&entry, rate, max);
        let arrived = |out: &[Vec<f32>; 2]| out[0][2_000..2_100].iter().map(|x| x.abs()).sum::<f32>() > 1.0;
        let out = capture_and_replay(&mut s, bar - 2_000, 6_000, &arrived);
        // Dry silence up to the bar line, the take right after it (resampled through the model's
        // rate, so compared loosely).
        assert!(out[0][..2_000].iter().all(|x| *x == 0.0), "{rate} Hz: sound before the bar line");
        let head: f32 = out[0][2_000..2_100].iter().map(|x| x.abs()).sum();
        assert!(head > 1.0, "{rate} Hz: no take at the bar line");
        s.close();
    }
}

#[test]
fn load_use_unload_then_threads_exit() {
    let Some(path) = bundle() else { return };
    // Several entries at once, each loaded, used and dropped on its own thread, which then exits:
    // this crashed about half the time before the library pinned itself.
    for _round in 0..3 {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    // SAFETY: as above.
                    let entry = unsafe { PluginEntry::load(&path) }.unwrap();
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
