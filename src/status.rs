//! What every thread may know about an instance: atomics for the audio thread and the bridge, and the
//! one message in words that only non-audio threads touch. The future editor and the tests read it.

use nice_plug::prelude::AtomicF32;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, AtomicUsize, Ordering};

/// Where the capture stands; written by the audio thread only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CapturePhase {
    /// Nothing armed or running.
    Idle = 0,
    /// Armed, waiting for the next bar line (or for a free capture buffer).
    Armed = 1,
    /// Copying the input.
    Capturing = 2,
}

/// What every thread may know about an instance; see the module docs.
#[derive(Debug, Default)]
pub struct Status {
    /// [`CapturePhase`] as u8; audio thread, every block.
    capture_phase: AtomicU8,
    /// Frames captured so far and in all; audio thread, while capturing.
    pub capture_frames_done: AtomicUsize,
    /// See `capture_frames_done`.
    pub capture_frames_total: AtomicUsize,
    /// Completed captures; audio thread, at each completion.
    pub captures_completed: AtomicU64,
    /// Capture was cut to the buffer's maximum length; audio thread, at capture start.
    pub capture_truncated: AtomicBool,
    /// Armed while the host's transport is stopped: the capture waits for Play; audio thread.
    pub capture_waits_for_play: AtomicBool,
    /// Arming found no free capture buffer (the bridge still holds both); audio thread.
    pub capture_refused: AtomicBool,
    /// Frames of the current take present in the take buffer, and its length; audio thread.
    pub take_frames_ready: AtomicUsize,
    /// See `take_frames_ready`.
    pub take_frames_total: AtomicUsize,
    /// Id of the take the audio thread plays (0: none); audio thread, at each `Begin`.
    pub take_id_playing: AtomicU64,
    /// Messages the audio thread has sent to the bridge / the bridge has handled. While they differ
    /// an offline bounce waits: a render may be about to begin.
    pub requests_sent: AtomicU64,
    /// See `requests_sent`.
    pub requests_handled: AtomicU64,
    /// Activations the plugin has attached to the bridge; plugin, in `activate`. While the bridge has
    /// handled fewer an offline bounce waits: Ardour re-activates its plugins as an export starts,
    /// and the new take buffer is empty until the bridge re-sends the take.
    pub attaches_sent: AtomicU64,
    /// Activations the bridge has handled (the current take re-sent into the new rings); bridge.
    pub attaches_handled: AtomicU64,
    /// Frames the audio thread has processed (all blocks); audio thread, every block. The bridge
    /// measures the host's pace from it (`bridge/pace.rs`).
    pub frames_processed: AtomicU64,
    /// The host processes much faster than real time without having said it is offline (Ardour's
    /// export): the audio thread then holds blocks for a pending take as offline; bridge.
    pub host_freewheeling: AtomicBool,
    /// Whether the host activated the plugin for offline processing; audio thread, every block.
    pub host_offline: AtomicBool,
    /// Blocks the audio thread held for a pending take; audio thread.
    pub offline_waits: AtomicU64,
    /// Whether the audio thread is holding a block for a pending take now; audio thread.
    pub offline_waiting: AtomicBool,
    /// A take is being streamed into the audio thread (render running or restore); bridge.
    pub streaming: AtomicBool,
    /// A render job is queued or running; bridge.
    pub rendering: AtomicBool,
    /// Render progress 0–1; bridge, from the engine's counters.
    pub render_progress: AtomicF32,
    /// Completed renders and failed renders; bridge.
    pub renders_finished: AtomicU64,
    /// See `renders_finished`.
    pub renders_failed: AtomicU64,
    /// State loads by the host (set) and the bridge's restores of them (seen); an offline bounce
    /// right after a load waits while they differ.
    pub restore_requested: AtomicU64,
    /// See `restore_requested`.
    pub restore_seen: AtomicU64,
    /// Bumped with every new message, so a reader knows to fetch it.
    pub message_seq: AtomicU64,
    /// The status line in words. Only non-audio threads lock it.
    message: Mutex<String>,
    /// Whether the current message reports an error.
    pub message_is_error: AtomicBool,

    // --- For the editor (read by the editor only; see `rt`'s `mirror_transport` and `mirror_job`). ---
    /// The host transport as the last block saw it: playing, position (samples; valid when
    /// `transport_has_pos`), tempo (0: none) and quarter notes per bar; audio thread, every block.
    pub transport_playing: AtomicBool,
    /// See `transport_playing`.
    pub transport_has_pos: AtomicBool,
    /// See `transport_playing`.
    pub transport_pos_samples: AtomicI64,
    /// See `transport_playing`.
    pub transport_tempo_bpm: AtomicF32,
    /// See `transport_playing`.
    pub transport_bar_beats: AtomicF32,
    /// The running render's model windows and model calls (diffusion steps), done and in all;
    /// bridge, where it stores `render_progress`.
    pub render_windows_done: AtomicUsize,
    /// See `render_windows_done`.
    pub render_windows_total: AtomicUsize,
    /// See `render_windows_done`.
    pub render_calls_done: AtomicUsize,
    /// See `render_windows_done`.
    pub render_calls_total: AtomicUsize,
    /// A/B audition, [`Audition`] as u8; editor writes, audio thread reads every block.
    audition: AtomicU8,
    /// Linear gain for the take while auditioning it (`Audition::Take`), so it is as loud as the
    /// source (RMS over the whole take); editor writes when a take's overview arrives. 0 reads as 1.
    pub audition_take_gain: AtomicF32,
}

/// What the musician hears: the normal mix, or one side of an A/B comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Audition {
    /// The Mix parameter as set.
    #[default]
    Normal = 0,
    /// A: the dry input (the take is not played).
    Source = 1,
    /// B: the take alone (mix 1), times `audition_take_gain`.
    Take = 2,
}

impl Status {
    /// Audio thread: plain store.
    pub fn set_capture_phase(&self, phase: CapturePhase) {
        self.capture_phase.store(phase as u8, Ordering::Relaxed);
    }

    /// Where the capture stands. Any thread: plain load.
    pub fn capture_phase(&self) -> CapturePhase {
        match self.capture_phase.load(Ordering::Relaxed) {
            1 => CapturePhase::Armed,
            2 => CapturePhase::Capturing,
            _ => CapturePhase::Idle,
        }
    }

    /// A render is running and the host plays in real time (not activated offline, not seen
    /// free-wheeling): a bounce started now cannot wait for the take and may miss it.
    pub fn bounce_may_miss(&self) -> bool {
        self.rendering.load(Ordering::Relaxed)
            && !self.host_offline.load(Ordering::Relaxed)
            && !self.host_freewheeling.load(Ordering::Relaxed)
    }

    /// Non-audio threads only (locks).
    pub fn set_message(&self, text: impl Into<String>, is_error: bool) {
        *self.message.lock() = text.into();
        self.message_is_error.store(is_error, Ordering::Relaxed);
        self.message_seq.fetch_add(1, Ordering::Release);
    }

    /// Bridge, while a job runs: the engine's counters for the editor's progress bar.
    pub fn mirror_job(&self, p: &redance_engine::worker::JobProgress) {
        self.render_windows_done.store(p.windows_done.load(Ordering::Relaxed), Ordering::Relaxed);
        self.render_windows_total.store(p.windows_total.load(Ordering::Relaxed), Ordering::Relaxed);
        self.render_calls_done.store(p.calls_done.load(Ordering::Relaxed), Ordering::Relaxed);
        self.render_calls_total.store(p.calls_total.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// Any thread (plain store).
    pub fn set_audition(&self, a: Audition) {
        self.audition.store(a as u8, Ordering::Relaxed);
    }

    /// Audio thread: plain load.
    pub fn audition(&self) -> Audition {
        match self.audition.load(Ordering::Relaxed) {
            1 => Audition::Source,
            2 => Audition::Take,
            _ => Audition::Normal,
        }
    }

    /// The take's gain while auditioning it; 1 until the editor measured it. Audio thread: plain load.
    pub fn audition_gain(&self) -> f32 {
        let g = self.audition_take_gain.load(Ordering::Relaxed);
        if g.is_finite() && g > 0.0 { g } else { 1.0 }
    }

    /// Non-audio threads only (locks).
    pub fn message(&self) -> String {
        self.message.lock().clone()
    }
}
