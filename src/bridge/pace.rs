//! How fast the host asks for audio, measured on the bridge thread from the audio thread's frame
//! count. A host that bounces faster than real time without saying so (Ardour 7's export: plugins
//! stay in real-time mode while the engine free-wheels) is told apart from one playing in real time,
//! so the audio thread can hold that bounce for a pending take as it does in an offline host.

use crate::status::Status;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// At least this many times real time, over at least [`FAST_MIN_AUDIO_S`] of audio inside one
/// [`WINDOW`]: free-wheeling. A real-time host cannot get there: its bursts (8192-frame blocks, a
/// render-ahead buffer) are far from a second of audio in a quarter of a second.
const FAST_RATIO: f64 = 4.0;
const FAST_MIN_AUDIO_S: f64 = 1.0;
/// Back to real time: a window this long paced between [`REALTIME_MIN_RATIO`] and
/// [`REALTIME_MAX_RATIO`], the audio thread not waiting in it.
const WINDOW: Duration = Duration::from_millis(250);
const REALTIME_MAX_RATIO: f64 = 1.5;
/// A host that stopped calling at all (between bounces) is left as it was.
const REALTIME_MIN_RATIO: f64 = 0.1;

#[derive(Debug)]
pub struct Pace {
    /// Where the current window began: wall time, frames processed, offline waits so far.
    since: Instant,
    frames_since: u64,
    waits_since: u64,
}

impl Pace {
    pub fn new(status: &Status) -> Self {
        Self {
            since: Instant::now(),
            frames_since: status.frames_processed.load(Ordering::Relaxed),
            waits_since: status.offline_waits.load(Ordering::Relaxed),
        }
    }

    /// Bridge thread, every poll: updates `status.host_freewheeling`; returns the new value when it
    /// changed, with the pace seen (× real time).
    pub fn update(&mut self, status: &Status, sample_rate: f32) -> Option<(bool, f64)> {
        let elapsed = self.since.elapsed();
        let frames = status.frames_processed.load(Ordering::Relaxed);
        let audio_s = frames.saturating_sub(self.frames_since) as f64 / sample_rate.max(1.0) as f64;
        let ratio = audio_s / elapsed.as_secs_f64().max(1e-6);
        let fast = status.host_freewheeling.load(Ordering::Relaxed);
        let mut changed = None;
        if !fast && audio_s >= FAST_MIN_AUDIO_S && ratio >= FAST_RATIO {
            status.host_freewheeling.store(true, Ordering::Relaxed);
            changed = Some((true, ratio));
        }
        if elapsed >= WINDOW {
            let waited = status.offline_waits.load(Ordering::Relaxed) != self.waits_since
                || status.offline_waiting.load(Ordering::Relaxed);
            if fast && !waited && (REALTIME_MIN_RATIO..=REALTIME_MAX_RATIO).contains(&ratio) {
                status.host_freewheeling.store(false, Ordering::Relaxed);
                changed = Some((false, ratio));
            }
            *self = Self::new(status);
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(status: &Status, pace: &mut Pace, seconds_of_audio: f64, wall: Duration) -> Option<(bool, f64)> {
        let steps = 20;
        let mut changed = None;
        for _ in 0..steps {
            status.frames_processed.fetch_add((seconds_of_audio * 48_000.0 / steps as f64) as u64, Ordering::Relaxed);
            std::thread::sleep(wall / steps);
            changed = pace.update(status, 48_000.0).or(changed);
        }
        changed
    }

    #[test]
    fn real_time_is_not_free_wheeling_and_a_fast_host_is() {
        let status = Status::default();
        let mut pace = Pace::new(&status);
        assert_eq!(feed(&status, &mut pace, 0.3, Duration::from_millis(300)), None);
        assert!(!status.host_freewheeling.load(Ordering::Relaxed));
        let fast = feed(&status, &mut pace, 3.0, Duration::from_millis(100));
        assert!(matches!(fast, Some((true, r)) if r > FAST_RATIO), "{fast:?}");
        // Held by the audio thread's own wait, then slow: still free-wheeling.
        status.offline_waiting.store(true, Ordering::Relaxed);
        assert_eq!(feed(&status, &mut pace, 0.0, Duration::from_millis(300)), None);
        status.offline_waiting.store(false, Ordering::Relaxed);
        status.offline_waits.fetch_add(1, Ordering::Relaxed);
        // Back at real time.
        let back = feed(&status, &mut pace, 0.6, Duration::from_millis(600));
        assert!(matches!(back, Some((false, _))), "{back:?}");
    }
}
