//! A submitted job as its submitter sees it: the events it sends (start, chunks, the end), progress
//! counters readable without locking, and cancellation. A failure arrives as an [`EngineError`], so
//! the submitter can tell a missing model from a failed call or a crash without reading words.

use crate::audio::Audio;
use crate::error::{EngineError, Result};
use crossbeam_channel::Receiver;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// What a job tells its submitter, in order: `Started`, `Chunk`s, then one of the last three.
#[derive(Debug)]
pub enum JobEvent {
    /// The model is loaded and the render planned.
    Started {
        /// Which device runs the model, in words.
        device: String,
        /// Render windows in the job.
        windows: usize,
        /// Model calls in the job.
        calls: usize,
    },
    /// Final audio for output frames `[offset, offset + frames)` at the source's rate and layout.
    Chunk {
        /// First output frame of the chunk.
        offset: usize,
        /// The chunk's audio.
        audio: Audio,
    },
    /// The whole render.
    Finished {
        /// The render at the source's rate and layout.
        audio: Arc<Audio>,
        /// Wall-clock seconds the render took.
        seconds: f64,
        /// Seconds of audio per second of rendering.
        realtime_factor: f64,
        /// Which device ran the model, in words.
        device: String,
    },
    /// The job failed; the error's message is written for the musician.
    Failed(EngineError),
    /// The job was cancelled before it finished.
    Cancelled,
}

/// Progress counters, readable from any thread without locking.
#[derive(Debug, Default)]
pub struct JobProgress {
    /// Model calls made and planned.
    pub calls_done: AtomicUsize,
    /// See `calls_done`.
    pub calls_total: AtomicUsize,
    /// Render windows finished and planned.
    pub windows_done: AtomicUsize,
    /// See `windows_done`.
    pub windows_total: AtomicUsize,
}

impl JobProgress {
    /// Model calls made over those planned, 0 before the plan.
    pub fn fraction(&self) -> f32 {
        let total = self.calls_total.load(Ordering::Relaxed);
        if total == 0 { 0.0 } else { self.calls_done.load(Ordering::Relaxed) as f32 / total as f32 }
    }
}

/// A queued or running job.
pub struct JobHandle {
    /// The job's id in this engine.
    pub id: u64,
    /// The job's events; the channel closes after the last.
    pub events: Receiver<JobEvent>,
    /// The job's progress.
    pub progress: Arc<JobProgress>,
    /// Set by [`JobHandle::cancel`], read by the render before each model call.
    pub(super) cancel: Arc<AtomicBool>,
}

impl JobHandle {
    /// Stops the job before its next model call.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Waits for the end of the job, collecting its output. Convenience for the CLI and tests.
    pub fn wait(&self) -> Result<Arc<Audio>> {
        for event in self.events.iter() {
            match event {
                JobEvent::Finished { audio, .. } => return Ok(audio),
                JobEvent::Failed(e) => return Err(e),
                JobEvent::Cancelled => return Err(EngineError::Cancelled),
                _ => {}
            }
        }
        Err(EngineError::Stopped)
    }
}
