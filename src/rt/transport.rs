//! The host transport reduced to what capture and playback need, plus the bar-grid arithmetic.
//! Plain `Copy` data: built once per block, no allocation.

use nice_plug::prelude::Transport;

/// A bar line closer than this (in beats) counts as "now": hosts round their beat positions.
const BEAT_EPSILON: f64 = 1e-9;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TransportInfo {
    pub playing: bool,
    pub tempo_bpm: Option<f64>,
    /// Time signature (numerator, denominator).
    pub time_sig: Option<(i32, i32)>,
    /// Timeline position of the block's first frame, in samples.
    pub pos_samples: Option<i64>,
    /// The same in quarter notes.
    pub pos_beats: Option<f64>,
    /// Where the current bar started, in quarter notes, when the host says.
    pub bar_start_beats: Option<f64>,
}

impl TransportInfo {
    /// No transport at all: an offline host, or a host that tells nothing.
    pub const NONE: TransportInfo = TransportInfo {
        playing: false,
        tempo_bpm: None,
        time_sig: None,
        pos_samples: None,
        pos_beats: None,
        bar_start_beats: None,
    };

    /// Audio thread: reads the host's fields (nice-plug derives the missing ones).
    pub fn from_host(t: &Transport) -> Self {
        let time_sig = t.time_sig_numerator.zip(t.time_sig_denominator).filter(|(n, d)| *n > 0 && *d > 0);
        Self {
            playing: t.playing,
            tempo_bpm: t.tempo.filter(|b| b.is_finite() && *b > 0.0),
            time_sig,
            pos_samples: t.pos_samples(),
            pos_beats: t.pos_beats().filter(|b| b.is_finite()),
            bar_start_beats: t.bar_start_pos_beats().filter(|b| b.is_finite()),
        }
    }

    /// A playing timeline: takes anchor to it and play in place.
    pub fn on_timeline(&self) -> bool {
        self.playing && self.pos_samples.is_some()
    }

    /// Quarter notes per bar; 4/4 when the host gives a tempo but no signature.
    pub fn bar_beats(&self) -> f64 {
        match self.time_sig {
            Some((n, d)) => n as f64 * 4.0 / d as f64,
            None => 4.0,
        }
    }

    /// Frames from the block start to the next bar line (0 when the block starts on one), when the
    /// transport plays with a tempo. The first frame at or after the bar line.
    pub fn frames_to_next_bar(&self, sample_rate: f32) -> Option<usize> {
        if !self.playing {
            return None;
        }
        let (tempo, pos) = (self.tempo_bpm?, self.pos_beats?);
        let bar = self.bar_beats();
        let mut next = match self.bar_start_beats {
            Some(start) if start <= pos + BEAT_EPSILON => start,
            _ => (pos / bar).floor() * bar,
        };
        while next < pos - BEAT_EPSILON {
            next += bar;
        }
        let frames = (next - pos).max(0.0) * 60.0 / tempo * sample_rate as f64;
        Some((frames - 1e-6).ceil().max(0.0) as usize)
    }

    /// Capture length in frames: `length` bars at the tempo, or seconds without one.
    pub fn length_frames(&self, length: u32, sample_rate: f32) -> usize {
        let seconds = match self.tempo_bpm {
            Some(tempo) => length as f64 * self.bar_beats() * 60.0 / tempo,
            None => length as f64,
        };
        (seconds * sample_rate as f64).round().max(1.0) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(beats: f64) -> TransportInfo {
        TransportInfo {
            playing: true,
            tempo_bpm: Some(120.0),
            time_sig: Some((4, 4)),
            pos_samples: Some((beats * 0.5 * 48_000.0) as i64),
            pos_beats: Some(beats),
            bar_start_beats: None,
        }
    }

    #[test]
    fn next_bar() {
        assert_eq!(at(0.0).frames_to_next_bar(48_000.0), Some(0));
        assert_eq!(at(3.0).frames_to_next_bar(48_000.0), Some(24_000));
        assert_eq!(at(4.0).frames_to_next_bar(48_000.0), Some(0));
        assert_eq!(at(4.5).frames_to_next_bar(48_000.0), Some(84_000));
        let mut t = at(1.0);
        t.time_sig = Some((3, 4));
        assert_eq!(t.frames_to_next_bar(48_000.0), Some(48_000));
        t.playing = false;
        assert_eq!(t.frames_to_next_bar(48_000.0), None);
    }

    #[test]
    fn lengths() {
        assert_eq!(at(0.0).length_frames(2, 48_000.0), 192_000);
        assert_eq!(TransportInfo::NONE.length_frames(3, 44_100.0), 132_300);
    }
}
