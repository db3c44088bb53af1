//! Capture on the audio thread: arm, wait for Play and the bar line (or start now), copy the input and record
//! the strength along it into a pool buffer, hand the full buffer to the bridge. No allocation: the
//! buffers come from the pool filled in `activate`.

use super::transport::TransportInfo;
use crate::boundary::{CaptureBuf, RenderChoice, STRENGTH_STRIDE_FRAMES, ToBridge};
use crate::status::{CapturePhase, Status};
use rtrb::{Consumer, Producer};
use std::sync::atomic::Ordering;

/// Where the capture stands. The buffer being filled lives inside `Capturing`, so a capture without
/// a buffer cannot be expressed (and nothing on the audio thread has to `expect` one).
#[derive(Debug)]
enum Phase {
    Idle,
    /// Waiting for the bar line (or for a free pool buffer).
    Armed,
    /// Filling `buf` (taken from the pool) up to `target` frames.
    Capturing {
        target: usize,
        buf: Box<CaptureBuf>,
    },
}

/// The audio thread's capture: its phase and the pool buffers it holds.
pub struct Capture {
    phase: Phase,
    /// A pool buffer kept between captures (a reset capture's), used by the next one; audio thread.
    spare: Option<Box<CaptureBuf>>,
    /// A completed capture the bridge's queue had no room for; retried each block.
    outgoing: Option<ToBridge>,
    /// The host rate, for bar lines and lengths in frames.
    sample_rate: f32,
}

/// What the block gives a capture.
pub struct CaptureInput<'a> {
    /// The block's channels (already sanitized).
    pub io: &'a [&'a mut [f32]],
    /// The transport at the block's first frame.
    pub transport: &'a TransportInfo,
    /// Capture length: bars at the tempo, seconds without one.
    pub length: u32,
    /// Start on the next bar line (otherwise at once).
    pub start_on_bar: bool,
    /// The host reports a transport that is stopped (and is not bouncing offline): an armed capture
    /// waits for Play. A host without transport information never plays, so it does not wait.
    pub wait_for_play: bool,
    /// Strength for this block, in 0–1.
    pub strength: f32,
    /// The render settings, recorded when the capture completes.
    pub choice: RenderChoice,
}

impl Capture {
    /// Idle, holding no buffer (they come from the pool when a capture starts).
    pub fn new(sample_rate: f32) -> Self {
        Self { phase: Phase::Idle, spare: None, outgoing: None, sample_rate }
    }

    /// Audio thread. A rising edge of the Capture parameter.
    pub fn arm(&mut self) {
        if matches!(self.phase, Phase::Idle) {
            self.phase = Phase::Armed;
        }
    }

    /// Audio thread. A falling edge while still waiting for the bar line.
    pub fn disarm(&mut self) {
        if matches!(self.phase, Phase::Armed) {
            self.phase = Phase::Idle;
        }
    }

    /// Audio thread: drops a capture in progress (reset); its buffer stays for the next one.
    pub fn reset(&mut self) {
        if let Phase::Capturing { buf, .. } = std::mem::replace(&mut self.phase, Phase::Idle) {
            self.spare = Some(buf);
        }
    }

    /// Audio thread. Captures from `input.io` (already sanitized). Returns whether a capture
    /// completed in this block (its buffer is then on its way to the bridge).
    pub fn process(
        &mut self,
        input: &CaptureInput,
        free: &mut Consumer<Box<CaptureBuf>>,
        to_bridge: &mut Producer<ToBridge>,
        status: &Status,
    ) -> bool {
        let mut completed = self.flush_outgoing(to_bridge, status);
        let n = input.io.first().map_or(0, |c| c.len());
        let mut offset = 0;
        let armed = matches!(self.phase, Phase::Armed);
        status.capture_waits_for_play.store(armed && input.wait_for_play, Ordering::Relaxed);
        if armed && !input.wait_for_play {
            let start = if input.start_on_bar { input.transport.frames_to_next_bar(self.sample_rate) } else { None };
            let start = start.unwrap_or(0);
            if start < n {
                match self.spare.take().or_else(|| free.pop().ok()) {
                    None => status.capture_refused.store(true, Ordering::Relaxed),
                    Some(mut buf) => {
                        status.capture_refused.store(false, Ordering::Relaxed);
                        let wanted = input.transport.length_frames(input.length, self.sample_rate);
                        let target = wanted.min(buf.max_frames());
                        buf.frames = 0;
                        buf.num_points = 0;
                        buf.truncated = target < wanted;
                        buf.start_pos = input
                            .transport
                            .on_timeline()
                            .then(|| input.transport.pos_samples.unwrap_or(0) + start as i64);
                        status.capture_truncated.store(buf.truncated, Ordering::Relaxed);
                        status.capture_frames_total.store(target, Ordering::Relaxed);
                        self.phase = Phase::Capturing { target, buf };
                        offset = start;
                    }
                }
            }
        }
        if let Phase::Capturing { target, buf } = &mut self.phase {
            let target = *target;
            let count = (n - offset).min(target - buf.frames);
            for (c, dst) in buf.channels.iter_mut().enumerate() {
                // Mono input into a stereo buffer and the reverse: the layout was fixed in activate.
                let src = &input.io[c.min(input.io.len() - 1)];
                dst[buf.frames..buf.frames + count].copy_from_slice(&src[offset..offset + count]);
            }
            // One strength point each STRIDE frames, at the frame it applies to.
            let first_point = buf.frames.div_ceil(STRENGTH_STRIDE_FRAMES);
            let end_point = (buf.frames + count).div_ceil(STRENGTH_STRIDE_FRAMES);
            for p in first_point..end_point.min(buf.strength.len()) {
                buf.strength[p] = input.strength;
            }
            buf.num_points = buf.num_points.max(end_point.min(buf.strength.len()));
            buf.frames += count;
            status.capture_frames_done.store(buf.frames, Ordering::Relaxed);
            if buf.frames >= target
                && let Phase::Capturing { buf, .. } = std::mem::replace(&mut self.phase, Phase::Idle)
            {
                self.outgoing = Some(ToBridge::Captured { buf, choice: input.choice });
                completed |= self.flush_outgoing(to_bridge, status);
            }
        }
        status.set_capture_phase(match self.phase {
            Phase::Idle => CapturePhase::Idle,
            Phase::Armed => CapturePhase::Armed,
            Phase::Capturing { .. } => CapturePhase::Capturing,
        });
        completed
    }

    fn flush_outgoing(&mut self, to_bridge: &mut Producer<ToBridge>, status: &Status) -> bool {
        let Some(msg) = self.outgoing.take() else { return false };
        match to_bridge.push(msg) {
            Ok(()) => {
                status.requests_sent.fetch_add(1, Ordering::Release);
                status.captures_completed.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(rtrb::PushError::Full(msg)) => {
                self.outgoing = Some(msg);
                false
            }
        }
    }
}
