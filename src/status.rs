//! What every thread may know about an instance: atomics for the audio thread and the bridge, and the
//! one message in words that only non-audio threads touch. The future editor and the tests read it.

use nice_plug::prelude::AtomicF32;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};

/// Where the capture stands; written by the audio thread only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CapturePhase {
    Idle = 0,
    /// Armed, waiting for the next bar line (or for a free capture buffer).
    Armed = 1,
    Capturing = 2,
}

#[derive(Debug, Default)]
pub struct Status {
    /// [`CapturePhase`] as u8; audio thread, every block.
    capture_phase: AtomicU8,
    /// Frames captured so far and in all; audio thread, while capturing.
    pub capture_frames_done: AtomicUsize,
    pub capture_frames_total: AtomicUsize,
    /// Completed captures; audio thread, at each completion.
    pub captures_completed: AtomicU64,
    /// Capture was cut to the buffer's maximum length; audio thread, at capture start.
    pub capture_truncated: AtomicBool,
    /// Arming found no free capture buffer (the bridge still holds both); audio thread.
    pub capture_refused: AtomicBool,
    /// Frames of the current take present in the take buffer, and its length; audio thread.
    pub take_frames_ready: AtomicUsize,
    pub take_frames_total: AtomicUsize,
    /// Id of the take the audio thread plays (0: none); audio thread, at each `Begin`.
    pub take_id_playing: AtomicU64,
    /// Messages the audio thread has sent to the bridge / the bridge has handled. While they differ
    /// an offline bounce waits: a render may be about to begin.
    pub requests_sent: AtomicU64,
    pub requests_handled: AtomicU64,
    /// A take is being streamed into the audio thread (render running or restore); bridge.
    pub streaming: AtomicBool,
    /// A render job is queued or running; bridge.
    pub rendering: AtomicBool,
    /// Render progress 0–1; bridge, from the engine's counters.
    pub render_progress: AtomicF32,
    /// Completed renders and failed renders; bridge.
    pub renders_finished: AtomicU64,
    pub renders_failed: AtomicU64,
    /// State loads by the host (set) and the bridge's restores of them (seen); an offline bounce
    /// right after a load waits while they differ.
    pub restore_requested: AtomicU64,
    pub restore_seen: AtomicU64,
    /// Bumped with every new message, so a reader knows to fetch it.
    pub message_seq: AtomicU64,
    /// The status line in words. Only non-audio threads lock it.
    message: Mutex<String>,
    /// Whether the current message reports an error.
    pub message_is_error: AtomicBool,
}

impl Status {
    /// Audio thread: plain store.
    pub fn set_capture_phase(&self, phase: CapturePhase) {
        self.capture_phase.store(phase as u8, Ordering::Relaxed);
    }

    pub fn capture_phase(&self) -> CapturePhase {
        match self.capture_phase.load(Ordering::Relaxed) {
            1 => CapturePhase::Armed,
            2 => CapturePhase::Capturing,
            _ => CapturePhase::Idle,
        }
    }

    /// Non-audio threads only (locks).
    pub fn set_message(&self, text: impl Into<String>, is_error: bool) {
        *self.message.lock() = text.into();
        self.message_is_error.store(is_error, Ordering::Relaxed);
        self.message_seq.fetch_add(1, Ordering::Release);
    }

    /// Non-audio threads only (locks).
    pub fn message(&self) -> String {
        self.message.lock().clone()
    }
}
