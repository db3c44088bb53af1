//! The host transport reduced to what capture and playback need, plus the bar-grid arithmetic.
//! Plain `Copy` data: built once per block, no allocation.

use nice_plug::prelude::Transport;

/// A bar line closer than this (in beats) counts as "now": hosts round their beat positions.
const BEAT_EPSILON: f64 = 1e-9;

/// The coarsest rounding of beat positions seen in a host (Ardour: 1/1920 beat), with some slack.
const HOST_BEAT_ROUNDING: f64 = 1.5 / 1920.0;

/// The host transport at a block's first frame.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TransportInfo {
    /// The transport is playing.
    pub playing: bool,
    /// Tempo, when the host gives one.
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

    /// Whether the host tells anything about its transport (a tempo or a position), playing or not.
    /// A host that does, stopped, will play later; one that does not never will.
    pub fn reports_transport(&self) -> bool {
        self.tempo_bpm.is_some() || self.pos_samples.is_some() || self.pos_beats.is_some()
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
        let (tempo, host_pos) = (self.tempo_bpm?, self.pos_beats?);
        let bar = self.bar_beats();
        // Hosts round musical time (Ardour to 1/1920 beat, 12.5 samples at 120 BPM and 48 kHz). When
        // the sample position agrees with it to within that rounding, it is the exact one to use.
        let pos = match self.pos_samples {
            Some(s) => {
                let from_samples = s as f64 * tempo / (60.0 * sample_rate as f64);
                if (from_samples - host_pos).abs() <= HOST_BEAT_ROUNDING { from_samples } else { host_pos }
            }
            None => host_pos,
        };
        let grid = (pos / bar).floor() * bar;
        let mut next = match self.bar_start_beats {
            // A host bar start that is the grid's, up to rounding, is the grid's (exact) one.
            Some(start) if (start - grid).abs() <= HOST_BEAT_ROUNDING => grid,
            Some(start) if start <= pos + BEAT_EPSILON => start,
            _ => grid,
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
    fn bar_line_from_samples_when_host_beats_are_rounded() {
        // Half a sample past 1.5 beats at 120 BPM: the host rounds beats to 1/1920.
        let exact: f64 = 1.5 * 24_000.0 + 3.0;
        let mut t = at(1.5);
        t.pos_samples = Some(exact as i64);
        t.pos_beats = Some((exact / 24_000.0 * 1920.0).round() / 1920.0);
        t.bar_start_beats = Some(0.0);
        assert_eq!(t.frames_to_next_bar(48_000.0), Some(96_000 - exact as usize));
    }

    #[test]
    fn no_transport_is_told_from_a_stopped_one() {
        assert!(!TransportInfo::NONE.reports_transport());
        let mut t = at(2.0);
        t.playing = false;
        assert!(t.reports_transport());
    }

    #[test]
    fn lengths() {
        assert_eq!(at(0.0).length_frames(2, 48_000.0), 192_000);
        assert_eq!(TransportInfo::NONE.length_frames(3, 44_100.0), 132_300);
    }
}
