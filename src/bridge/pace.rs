//! How fast the host asks for audio, measured on the bridge thread from the audio thread's frame
//! count. A host that bounces faster than real time without saying so (Ardour 7's export: plugins
//! stay in real-time mode while the engine free-wheels) is told apart from one playing in real time,
//! so the audio thread can hold that bounce for a pending take as it does in an offline host.
//!
//! Both decisions lean towards holding the bounce: a bounce taken for playback plays dry where the
//! take has not arrived (lost audio in the file), while playback taken for a bounce only waits for a
//! take the block needs (the audio thread's wait is bounded), and only until the transport stops.

use crate::status::Status;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Free-wheeling: at least [`FAST_RATIO`] times real time over a stretch holding at least
/// [`FAST_MIN_AUDIO_S`] of audio, within the last [`HISTORY`]. A real-time host cannot get there:
/// a burst of `B` seconds (large blocks, a render-ahead buffer) followed by real time reaches 2.5×
/// over a second of audio only if `B` ≥ 0.6 s. Measured over a sliding stretch, not fixed windows,
/// so a slow export (a loaded machine: the render itself shares the cores) is seen as soon as
/// it has processed a second of audio.
const FAST_RATIO: f64 = 2.5;
const FAST_MIN_AUDIO_S: f64 = 1.0;
const HISTORY: Duration = Duration::from_secs(2);
/// How often the history takes a sample (the bridge polls every 1–5 ms).
const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// Back to real time: a window this long paced between [`REALTIME_MIN_RATIO`] and
/// [`REALTIME_MAX_RATIO`], the audio thread not waiting in it, with the transport stopped (the
/// bounce is over), or such windows in a row for [`REALTIME_HOLD`] (a moment's stall in a bounce on a
/// busy machine is not the end of it).
const WINDOW: Duration = Duration::from_millis(250);
const REALTIME_MAX_RATIO: f64 = 1.5;
/// A host that stopped calling at all (between bounces) is left as it was.
const REALTIME_MIN_RATIO: f64 = 0.1;
const REALTIME_HOLD: Duration = Duration::from_secs(3);

#[derive(Debug)]
pub struct Pace {
    /// (wall time, frames processed) every [`SAMPLE_EVERY`], over the last [`HISTORY`].
    history: VecDeque<(Instant, u64)>,
    /// Where the current real-time window began: wall time, frames processed, offline waits so far.
    since: Instant,
    frames_since: u64,
    waits_since: u64,
    /// Since when every window was paced like real time (while free-wheeling).
    realtime_since: Option<Instant>,
}

impl Pace {
    pub fn new(status: &Status) -> Self {
        Self::starting_at(status, Instant::now())
    }

    fn starting_at(status: &Status, now: Instant) -> Self {
        let frames = status.frames_processed.load(Ordering::Relaxed);
        Self {
            history: VecDeque::from([(now, frames)]),
            since: now,
            frames_since: frames,
            waits_since: status.offline_waits.load(Ordering::Relaxed),
            realtime_since: None,
        }
    }

    /// Bridge thread, every poll: updates `status.host_freewheeling`; returns the new value when it
    /// changed, with the pace seen (× real time).
    pub fn update(&mut self, status: &Status, sample_rate: f32) -> Option<(bool, f64)> {
        self.update_at(status, sample_rate, Instant::now())
    }

    fn update_at(&mut self, status: &Status, sample_rate: f32, now: Instant) -> Option<(bool, f64)> {
        let frames = status.frames_processed.load(Ordering::Relaxed);
        let rate = sample_rate.max(1.0) as f64;
        let fast = status.host_freewheeling.load(Ordering::Relaxed);
        let mut changed = None;
        if !fast && let Some(ratio) = self.fast_stretch(now, frames, rate) {
            status.host_freewheeling.store(true, Ordering::Relaxed);
            self.realtime_since = None;
            changed = Some((true, ratio));
        }
        self.sample(now, frames);

        let elapsed = now - self.since;
        if elapsed >= WINDOW {
            let audio_s = frames.saturating_sub(self.frames_since) as f64 / rate;
            let ratio = audio_s / elapsed.as_secs_f64();
            let waited = status.offline_waits.load(Ordering::Relaxed) != self.waits_since
                || status.offline_waiting.load(Ordering::Relaxed);
            let realtime = !waited && (REALTIME_MIN_RATIO..=REALTIME_MAX_RATIO).contains(&ratio);
            self.realtime_since = if realtime { self.realtime_since.or(Some(self.since)) } else { None };
            let stopped = !status.transport_playing.load(Ordering::Relaxed);
            let held = self.realtime_since.is_some_and(|t| now - t >= REALTIME_HOLD);
            if fast && changed.is_none() && realtime && (stopped || held) {
                status.host_freewheeling.store(false, Ordering::Relaxed);
                self.realtime_since = None;
                // The bounce's own fast stretch must not count again.
                self.history.clear();
                self.history.push_back((now, frames));
                changed = Some((false, ratio));
            }
            self.since = now;
            self.frames_since = frames;
            self.waits_since = status.offline_waits.load(Ordering::Relaxed);
        }
        changed
    }

    /// The pace over the longest recent stretch that qualifies as free-wheeling, if one does.
    fn fast_stretch(&self, now: Instant, frames: u64, rate: f64) -> Option<f64> {
        self.history.iter().find_map(|&(t, f)| {
            let audio_s = frames.saturating_sub(f) as f64 / rate;
            let ratio = audio_s / (now - t).as_secs_f64().max(1e-6);
            (audio_s >= FAST_MIN_AUDIO_S && ratio >= FAST_RATIO).then_some(ratio)
        })
    }

    fn sample(&mut self, now: Instant, frames: u64) {
        if self.history.back().is_none_or(|&(t, _)| now - t >= SAMPLE_EVERY) {
            self.history.push_back((now, frames));
        }
        while self.history.front().is_some_and(|&(t, _)| now - t > HISTORY) {
            self.history.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host driven on a synthetic clock, so the tests do not depend on the machine's load.
    struct Host {
        status: Status,
        pace: Pace,
        now: Instant,
    }

    impl Host {
        fn playing() -> Self {
            let status = Status::default();
            status.transport_playing.store(true, Ordering::Relaxed);
            let now = Instant::now();
            let pace = Pace::starting_at(&status, now);
            Self { status, pace, now }
        }

        /// Processes `seconds_of_audio` over `wall`, evenly, the bridge polling every 5 ms.
        fn feed(&mut self, seconds_of_audio: f64, wall: Duration) -> Option<(bool, f64)> {
            let steps = (wall.as_millis() / 5).max(1) as u32;
            let mut changed = None;
            for _ in 0..steps {
                let frames = (seconds_of_audio * 48_000.0 / steps as f64) as u64;
                self.status.frames_processed.fetch_add(frames, Ordering::Relaxed);
                self.now += wall / steps;
                changed = self.pace.update_at(&self.status, 48_000.0, self.now).or(changed);
            }
            changed
        }

        fn freewheeling(&self) -> bool {
            self.status.host_freewheeling.load(Ordering::Relaxed)
        }
    }

    #[test]
    fn real_time_is_not_free_wheeling_and_a_fast_host_is() {
        let mut host = Host::playing();
        assert_eq!(host.feed(0.3, Duration::from_millis(300)), None);
        assert!(!host.freewheeling());
        let fast = host.feed(3.0, Duration::from_millis(100));
        assert!(matches!(fast, Some((true, r)) if r > FAST_RATIO), "{fast:?}");
        // Held by the audio thread's own wait, then slow: still free-wheeling.
        host.status.offline_waiting.store(true, Ordering::Relaxed);
        assert_eq!(host.feed(0.0, Duration::from_millis(300)), None);
        host.status.offline_waiting.store(false, Ordering::Relaxed);
        host.status.offline_waits.fetch_add(1, Ordering::Relaxed);
        // The transport stops at real-time pace: the bounce is over.
        host.status.transport_playing.store(false, Ordering::Relaxed);
        let back = host.feed(0.6, Duration::from_millis(600));
        assert!(matches!(back, Some((false, _))), "{back:?}");
    }

    #[test]
    fn a_render_ahead_burst_is_not_a_bounce() {
        let mut host = Host::playing();
        // Half a second of audio at once (8192-frame blocks, a render-ahead buffer), then real time.
        assert_eq!(host.feed(0.5, Duration::from_millis(5)), None);
        assert_eq!(host.feed(3.0, Duration::from_millis(3000)), None);
        assert!(!host.freewheeling());
    }

    #[test]
    fn a_slow_bounce_on_a_busy_machine_is_seen_and_a_stall_in_it_does_not_end_it() {
        let mut host = Host::playing();
        // Three times real time: under the old fixed windows' 4×.
        let fast = host.feed(1.5, Duration::from_millis(500));
        assert!(matches!(fast, Some((true, _))), "{fast:?}");
        // A second at real-time pace, the transport still rolling: a stall, not the end.
        assert_eq!(host.feed(1.0, Duration::from_millis(1000)), None);
        assert!(host.freewheeling());
    }

    #[test]
    fn playback_at_real_time_ends_it_even_with_the_transport_rolling() {
        let mut host = Host::playing();
        host.feed(3.0, Duration::from_millis(300));
        assert!(host.freewheeling());
        let back = host.feed(4.0, Duration::from_millis(4000));
        assert!(matches!(back, Some((false, _))), "{back:?}");
    }
}
