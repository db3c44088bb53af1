//! The host's musical position to the sample, wherever the tempo map has put the bar lines. Hosts
//! round beat positions (Ardour 7: to 1/1920 beat, 12.5 samples at 120 BPM and 48 kHz); over the
//! blocks played at one tempo, `beats - samples × tempo` is one constant, and each block's rounded
//! value narrows where it lies. Audio thread: plain arithmetic on a few `f64`, no allocation.

use super::transport::TransportInfo;

/// Half the coarsest beat rounding seen in a host (Ardour: 1/1920 beat), with slack for float error.
const HALF_TICK_BEATS: f64 = 0.5 / 1920.0 + 1e-9;

/// What the blocks played so far at one tempo say about the position's offset.
#[derive(Debug, Clone, Copy, Default)]
pub struct BeatClock {
    /// Quarter notes per frame of the segment being tracked; 0 when none is.
    beats_per_frame: f64,
    /// The offset `beats - samples × beats_per_frame` lies in `[lo, hi]`.
    lo: f64,
    hi: f64,
}

impl BeatClock {
    /// Audio thread, once per block: `t` with `pos_beats` replaced by the best estimate of the exact
    /// position (the host's own when it gives no tempo, no sample position or is not playing).
    pub fn refine(&mut self, t: &TransportInfo, sample_rate: f32) -> TransportInfo {
        let (Some(tempo), Some(samples), Some(beats), true) = (t.tempo_bpm, t.pos_samples, t.pos_beats, t.playing)
        else {
            self.beats_per_frame = 0.0;
            return *t;
        };
        let k = tempo / (60.0 * sample_rate as f64);
        let offset = beats - samples as f64 * k;
        let (lo, hi) = (offset - HALF_TICK_BEATS, offset + HALF_TICK_BEATS);
        // Another tempo, or an offset the past blocks rule out (a locate into another tempo segment):
        // start again from this block alone.
        if k != self.beats_per_frame || lo > self.hi || hi < self.lo {
            *self = Self { beats_per_frame: k, lo, hi };
        } else {
            self.lo = self.lo.max(lo);
            self.hi = self.hi.min(hi);
        }
        let mut refined = *t;
        refined.pos_beats = Some(samples as f64 * k + 0.5 * (self.lo + self.hi));
        refined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host at 100 BPM from a tempo change at `change` samples (on beat `change_beats`), rounding
    /// beats to 1/1920 like Ardour.
    fn host(pos: i64, change: i64, change_beats: f64) -> TransportInfo {
        let exact = change_beats + (pos - change) as f64 * 100.0 / 60.0 / 48_000.0;
        TransportInfo {
            playing: true,
            tempo_bpm: Some(100.0),
            time_sig: Some((4, 4)),
            pos_samples: Some(pos),
            pos_beats: Some((exact * 1920.0).round() / 1920.0),
            bar_start_beats: None,
        }
    }

    #[test]
    fn converges_to_the_exact_position_after_a_tempo_change() {
        let (change, change_beats) = (96_000, 4.0);
        let mut clock = BeatClock::default();
        let mut pos = change + 7_001;
        let mut err = f64::MAX;
        for _ in 0..200 {
            let t = clock.refine(&host(pos, change, change_beats), 48_000.0);
            let exact = change_beats + (pos - change) as f64 * 100.0 / 60.0 / 48_000.0;
            err = (t.pos_beats.unwrap() - exact).abs();
            pos += 512;
        }
        // Well under a sample (1/28,800 beat at 100 BPM).
        assert!(err < 1.0 / 28_800.0 / 10.0, "error {err} beats");
    }

    #[test]
    fn a_stopped_or_jumping_transport_starts_again() {
        let mut clock = BeatClock::default();
        let mut t = host(200_000, 96_000, 4.0);
        clock.refine(&t, 48_000.0);
        // A locate into a segment whose offset is far from this one: the host's value is used.
        t.pos_beats = Some(t.pos_beats.unwrap() + 0.37);
        let refined = clock.refine(&t, 48_000.0).pos_beats.unwrap();
        assert!((refined - t.pos_beats.unwrap()).abs() < 1e-9);
        t.playing = false;
        assert_eq!(clock.refine(&t, 48_000.0), t);
    }
}
