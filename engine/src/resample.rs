//! Between the host's rate and the model's: whole clips before a job, and a streaming resampler that
//! converts the render back as windows finish, so the first window can play before the last is done.

use crate::audio::Audio;
use crate::error::{EngineError, Result};
use audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};

const CHUNK: usize = 1024;

fn fft(from: u32, to: u32, channels: usize) -> Result<Fft<f32>> {
    Fft::<f32>::new(from as usize, to as usize, CHUNK, 2, channels, FixedSync::Input)
        .map_err(|e| EngineError::Resample(e.to_string()))
}

/// The clip at `rate`; the same clip (bit-exact) when it already is.
pub fn resample(audio: &Audio, rate: u32) -> Result<Audio> {
    if audio.sample_rate == rate {
        return Ok(audio.clone());
    }
    let frames = output_frames(audio.frames(), audio.sample_rate, rate);
    let mut stream = StreamResampler::new(audio.sample_rate, rate, audio.num_channels(), frames)?;
    let mut out = stream.push(&audio.channels, audio.frames())?;
    let tail = stream.finish()?;
    for (o, t) in out.iter_mut().zip(tail) {
        o.extend(t);
    }
    Audio::new(rate, out)
}

/// Frames that `frames` input frames at `from` make at `to`: `ceil(frames · to / from)`.
pub fn output_frames(frames: usize, from: u32, to: u32) -> usize {
    (frames as u128 * to as u128).div_ceil(from as u128) as usize
}

/// Resamples a clip that arrives in pieces. Output frames come out in order, with the resampler's
/// delay removed, and add up to exactly `output_frames` (the caller's length: a round trip returns
/// to the original length, not one frame more).
pub struct StreamResampler {
    inner: Option<Fft<f32>>,
    channels: usize,
    /// Input not yet consumed (less than one chunk).
    pending: Vec<Vec<f32>>,
    /// Output frames still to drop (the filter delay).
    to_trim: usize,
    out_total: usize,
    out_expected: usize,
    scratch_out: Vec<Vec<f32>>,
}

impl StreamResampler {
    /// A resampler from `from` Hz to `to` Hz for `channels`, producing `output_frames` in all.
    pub fn new(from: u32, to: u32, channels: usize, output_frames: usize) -> Result<Self> {
        let out_expected = output_frames;
        let inner = if from == to { None } else { Some(fft(from, to, channels)?) };
        let (to_trim, out_max) = inner.as_ref().map_or((0, 0), |r| (r.output_delay(), r.output_frames_max()));
        Ok(Self {
            inner,
            channels,
            pending: vec![Vec::new(); channels],
            to_trim,
            out_total: 0,
            out_expected,
            scratch_out: vec![vec![0.0; out_max]; channels],
        })
    }

    /// Feeds `frames` new input frames; returns the output frames now ready.
    pub fn push(&mut self, input: &[Vec<f32>], frames: usize) -> Result<Vec<Vec<f32>>> {
        for (p, i) in self.pending.iter_mut().zip(input) {
            p.extend_from_slice(&i[..frames]);
        }
        self.drain(false)
    }

    /// Flushes the filter; returns the last output frames.
    pub fn finish(&mut self) -> Result<Vec<Vec<f32>>> {
        self.drain(true)
    }

    fn drain(&mut self, flush: bool) -> Result<Vec<Vec<f32>>> {
        let mut out = vec![Vec::new(); self.channels];
        let Some(inner) = self.inner.as_mut() else {
            let n = self.pending[0].len().min(self.out_expected - self.out_total);
            self.out_total += n;
            for (o, p) in out.iter_mut().zip(&mut self.pending) {
                o.extend(p.drain(..n));
            }
            return Ok(out);
        };
        loop {
            let need = inner.input_frames_next();
            if self.pending[0].len() < need {
                if !flush || self.out_total >= self.out_expected {
                    break;
                }
                for p in &mut self.pending {
                    p.resize(need, 0.0);
                }
            }
            let input = SequentialSliceOfVecs::new(&self.pending, self.channels, need)
                .map_err(|e| EngineError::Resample(e.to_string()))?;
            let out_len = inner.output_frames_next();
            let mut output = SequentialSliceOfVecs::new_mut(&mut self.scratch_out, self.channels, out_len)
                .map_err(|e| EngineError::Resample(e.to_string()))?;
            let (used, produced) = inner
                .process_into_buffer(&input, &mut output, None)
                .map_err(|e| EngineError::Resample(e.to_string()))?;
            for p in &mut self.pending {
                p.drain(..used);
            }
            let skip = self.to_trim.min(produced);
            self.to_trim -= skip;
            let keep = (produced - skip).min(self.out_expected - self.out_total);
            self.out_total += keep;
            for (o, s) in out.iter_mut().zip(&self.scratch_out) {
                o.extend_from_slice(&s[skip..skip + keep]);
            }
        }
        Ok(out)
    }
}
