//! The audio-thread side: one [`RtCore`] per activation, everything it touches sized in `activate`.
//! `process()` calls [`RtCore::process`] and nothing else; tests drive it directly under
//! `assert_no_alloc`. No nice-plug types below this point except the transport conversion.

mod beat_clock;
mod capture;
mod take;
mod transport;

pub use transport::TransportInfo;

use crate::boundary::{HostConfig, RenderChoice, RtLink, ToBridge};
use crate::shared::Shared;
use crate::status::{Audition, Status};
use beat_clock::BeatClock;
use capture::{Capture, CaptureInput};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use take::Take;

/// An offline bounce waits at most this long without any take audio arriving.
pub const OFFLINE_WAIT_TIMEOUT: Duration = Duration::from_secs(120);
/// While it waits, it looks at the rings this often.
const OFFLINE_WAIT_POLL: Duration = Duration::from_millis(1);

/// Take frames read from the ring per block, as a multiple of the block's frames: a finished render
/// catches up at 8× real time…
const DRAIN_BLOCKS: usize = 8;
/// …and at least this many frames per block (small blocks), still a bounded copy.
const MIN_DRAIN_FRAMES: usize = 4096;

/// Take frames read from the ring in a block of `n` frames.
fn drain_budget(n: usize) -> usize {
    (DRAIN_BLOCKS * n).max(MIN_DRAIN_FRAMES)
}

/// The parameters for one block, read by `process()` (plain loads). No `Default` here: the defaults
/// are the parameters' (`RedanceParams::default_rt_params`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RtParams {
    /// The Capture parameter (a rising edge arms a capture).
    pub capture: bool,
    /// Capture length: bars at the host tempo, seconds without one.
    pub length: u32,
    /// Start on the next bar line (otherwise at once).
    pub start_on_bar: bool,
    /// Denoise strength, recorded along the capture.
    pub strength: f32,
    /// Take over input: 1 replaces the input, 0 is dry.
    pub mix: f32,
    /// Play the take on the bar grid instead of in place.
    pub looping: bool,
    /// The Render, Keep and Export parameters (rising edges trigger them).
    pub render: bool,
    /// See `render`.
    pub keep: bool,
    /// See `render`.
    pub export: bool,
    /// The render settings as they stand.
    pub choice: RenderChoice,
}

/// Trigger parameters of the previous block, for edge detection.
#[derive(Debug, Clone, Copy)]
struct Triggers {
    capture: bool,
    render: bool,
    keep: bool,
    export: bool,
}

/// The audio thread's state for one activation; see the module docs.
pub struct RtCore {
    config: HostConfig,
    capture: Capture,
    take: Take,
    link: RtLink,
    /// Status atomics (the audio thread never locks anything in here).
    shared: Arc<Shared>,
    /// Triggers of the last block; `None` before the first, so a saved "on" arms nothing.
    last: Option<Triggers>,
    /// (take id, frames ready) when an offline wait timed out; no more waiting until it changes.
    offline_gave_up: Option<(u64, usize)>,
    /// The exact musical position under the host's rounded one, for the capture's bar line.
    clock: BeatClock,
}

impl RtCore {
    /// Allocates every buffer (not on the audio thread).
    pub fn new(config: HostConfig, link: RtLink, shared: Arc<Shared>) -> Self {
        Self {
            capture: Capture::new(config.sample_rate),
            take: Take::new(config.num_channels, config.max_capture_frames),
            config,
            link,
            shared,
            last: None,
            offline_gave_up: None,
            clock: BeatClock::default(),
        }
    }

    /// What the host gave `activate`.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// Audio thread: drops a capture in progress and restarts free playback.
    pub fn reset(&mut self) {
        self.capture.reset();
        self.take.reset();
    }

    /// Audio thread. `io` holds the input and receives the output. Does not allocate, lock, log or
    /// do I/O; with `offline` it may sleep while a render the block needs is still arriving.
    pub fn process(&mut self, io: &mut [&mut [f32]], transport: &TransportInfo, params: &RtParams, offline: bool) {
        let n = io.first().map_or(0, |c| c.len());
        if n == 0 {
            return;
        }
        // Whatever the host sends, the model and the output see only finite samples.
        for ch in io.iter_mut() {
            for s in ch.iter_mut() {
                if !s.is_finite() {
                    *s = 0.0;
                }
            }
        }
        self.triggers(params);
        let musical = self.clock.refine(transport, self.config.sample_rate);
        let input = CaptureInput {
            io,
            transport: &musical,
            length: params.length,
            start_on_bar: params.start_on_bar,
            // An offline host with a stopped transport (pedalboard) renders what it is given and
            // never plays: waiting there would never capture.
            wait_for_play: transport.reports_transport() && !transport.playing && !offline,
            strength: if params.strength.is_finite() { params.strength.clamp(0.0, 1.0) } else { 0.0 },
            choice: params.choice,
        };
        self.capture.process(&input, &mut self.link.free_bufs, &mut self.link.to_bridge, &self.shared.status);

        let budget = drain_budget(n);
        self.take.drain(&mut self.link.take_msgs, &mut self.link.take_samples, budget, &self.shared.status);
        let status = &self.shared.status;
        status.frames_processed.fetch_add(n as u64, Ordering::Relaxed);
        status.host_offline.store(offline, Ordering::Relaxed);
        // A host bouncing far faster than real time without saying so (Ardour's export) is offline
        // too: the bridge measures its pace (bridge/pace.rs).
        if offline || status.host_freewheeling.load(Ordering::Relaxed) {
            self.wait_for_take(n, transport, params.looping);
        }
        let mix = if params.mix.is_finite() { params.mix.clamp(0.0, 1.0) } else { 1.0 };
        let status = &self.shared.status;
        mirror_transport(status, transport);
        // The editor's A/B: the source alone (dry), the take alone at the source's loudness, or Mix.
        match status.audition() {
            Audition::Normal => self.take.play(io, transport, mix, params.looping, 1.0),
            Audition::Source => {}
            Audition::Take => self.take.play(io, transport, 1.0, params.looping, status.audition_gain()),
        }
    }

    /// Offline only: waits until the frames this block plays have arrived, the render is over, or
    /// nothing arrived for [`OFFLINE_WAIT_TIMEOUT`]. It sleeps 1 ms at a time (no lock, no condition
    /// variable: the bridge never has to wake the audio thread) and drains the ring between naps.
    fn wait_for_take(&mut self, n: usize, transport: &TransportInfo, looping: bool) {
        let mut waited = false;
        self.wait_until_ready(n, transport, looping, &mut waited);
        if waited {
            self.shared.status.offline_waiting.store(false, Ordering::Relaxed);
        }
    }

    fn wait_until_ready(&mut self, n: usize, transport: &TransportInfo, looping: bool, waited: &mut bool) {
        let mut last_progress = Instant::now();
        let mut last_seen = (self.take.id(), self.take.ready());
        if self.offline_gave_up == Some(last_seen) {
            return;
        }
        loop {
            let status = &self.shared.status;
            // A request, a loaded state or a new activation not yet handled may begin (or re-send) a
            // take this block needs.
            let begin_pending = status.requests_sent.load(Ordering::Acquire)
                != status.requests_handled.load(Ordering::Acquire)
                || status.restore_requested.load(Ordering::Acquire) != status.restore_seen.load(Ordering::Acquire)
                || status.attaches_sent.load(Ordering::Acquire) != status.attaches_handled.load(Ordering::Acquire);
            let growing = status.streaming.load(Ordering::Acquire) && self.take.missing_for(n, transport, looping);
            if !begin_pending && !growing {
                return;
            }
            if last_progress.elapsed() > OFFLINE_WAIT_TIMEOUT {
                // Give up on this take until it moves again: a stuck render must not stall every block.
                self.offline_gave_up = Some(last_seen);
                return;
            }
            if !*waited {
                *waited = true;
                status.offline_waiting.store(true, Ordering::Relaxed);
                status.offline_waits.fetch_add(1, Ordering::Relaxed);
            }
            std::thread::sleep(OFFLINE_WAIT_POLL);
            self.take.drain(&mut self.link.take_msgs, &mut self.link.take_samples, usize::MAX, &self.shared.status);
            let now = (self.take.id(), self.take.ready());
            if now != last_seen {
                last_seen = now;
                last_progress = Instant::now();
            }
        }
    }

    fn triggers(&mut self, params: &RtParams) {
        let now = Triggers { capture: params.capture, render: params.render, keep: params.keep, export: params.export };
        let Some(last) = self.last.replace(now) else { return };
        if now.capture && !last.capture {
            self.capture.arm();
        } else if !now.capture && last.capture {
            self.capture.disarm();
        }
        if now.render && !last.render {
            self.send(ToBridge::Render(params.choice));
        }
        if now.keep && !last.keep {
            self.send(ToBridge::Keep);
        }
        if now.export && !last.export {
            self.send(ToBridge::Export);
        }
    }

    fn send(&mut self, msg: ToBridge) {
        // A full queue drops the request: the user presses again; nothing blocks.
        if self.link.to_bridge.push(msg).is_ok() {
            self.shared.status.requests_sent.fetch_add(1, Ordering::Release);
        }
    }
}

/// Audio thread, once per block: plain stores of the transport for the editor's playhead and bar lines.
fn mirror_transport(status: &Status, t: &TransportInfo) {
    status.transport_playing.store(t.playing, Ordering::Relaxed);
    status.transport_has_pos.store(t.pos_samples.is_some(), Ordering::Relaxed);
    status.transport_pos_samples.store(t.pos_samples.unwrap_or(0), Ordering::Relaxed);
    status.transport_tempo_bpm.store(t.tempo_bpm.unwrap_or(0.0) as f32, Ordering::Relaxed);
    status.transport_bar_beats.store(t.bar_beats() as f32, Ordering::Relaxed);
}
