//! Planar multi-channel audio at a known sample rate: the currency between host, jobs and files.

use crate::error::{EngineError, Result};
use std::path::Path;

/// Planar audio: `channels[c][frame]`. All channels have the same length.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// The rate, in Hz.
    pub sample_rate: u32,
    /// Planar samples: one `Vec` per channel, all the same length.
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    /// Audio from planar channels; refuses no channels, unequal lengths or a zero rate.
    pub fn new(sample_rate: u32, channels: Vec<Vec<f32>>) -> Result<Self> {
        if channels.is_empty() {
            return Err(EngineError::Input("audio has no channels".into()));
        }
        let frames = channels[0].len();
        if channels.iter().any(|c| c.len() != frames) {
            return Err(EngineError::Input("audio channels differ in length".into()));
        }
        if sample_rate == 0 {
            return Err(EngineError::Input("sample rate is 0".into()));
        }
        Ok(Self { sample_rate, channels })
    }

    /// `frames` of silence.
    pub fn silent(sample_rate: u32, num_channels: usize, frames: usize) -> Self {
        Self { sample_rate, channels: vec![vec![0.0; frames]; num_channels] }
    }

    /// Frames per channel.
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// Channels.
    pub fn num_channels(&self) -> usize {
        self.channels.len()
    }

    /// Length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / self.sample_rate as f64
    }

    /// Index of the first non-finite sample, if any.
    pub fn first_non_finite(&self) -> Option<(usize, usize)> {
        self.channels.iter().enumerate().find_map(|(c, ch)| ch.iter().position(|s| !s.is_finite()).map(|i| (c, i)))
    }

    /// Replaces NaN/Inf with silence; returns how many samples were replaced. Hosts can send anything;
    /// the model must never see it.
    pub fn sanitize(&mut self) -> usize {
        let mut n = 0;
        for s in self.channels.iter_mut().flatten() {
            if !s.is_finite() {
                *s = 0.0;
                n += 1;
            }
        }
        n
    }

    /// The model wants exactly `n` channels: mono is duplicated, extra channels are dropped.
    pub fn with_channel_count(&self, n: usize) -> Audio {
        let channels = (0..n).map(|c| self.channels[c.min(self.num_channels() - 1)].clone()).collect();
        Audio { sample_rate: self.sample_rate, channels }
    }

    /// Back to the caller's layout: to mono by averaging, otherwise by duplicating the last channel.
    pub fn to_layout(&self, n: usize) -> Audio {
        if n == 1 && self.num_channels() > 1 {
            let k = self.num_channels() as f32;
            let mono = (0..self.frames()).map(|i| self.channels.iter().map(|c| c[i]).sum::<f32>() / k).collect();
            return Audio { sample_rate: self.sample_rate, channels: vec![mono] };
        }
        self.with_channel_count(n)
    }

    /// Frames `[start, start + len)`, zero-padded past the end.
    pub fn slice_padded(&self, start: usize, len: usize) -> Audio {
        let channels = self
            .channels
            .iter()
            .map(|c| {
                let mut out = vec![0.0; len];
                if start < c.len() {
                    let n = len.min(c.len() - start);
                    out[..n].copy_from_slice(&c[start..start + n]);
                }
                out
            })
            .collect();
        Audio { sample_rate: self.sample_rate, channels }
    }

    /// Reads a WAV file (integer or float), as float samples.
    pub fn read_wav(path: &Path) -> Result<Audio> {
        let err = |reason: String| EngineError::AudioFile { path: path.to_owned(), reason };
        let mut reader = hound::WavReader::open(path).map_err(|e| err(format!("not a readable WAV file ({e})")))?;
        let spec = reader.spec();
        let n = spec.channels as usize;
        if n == 0 {
            return Err(err("has no channels".into()));
        }
        let interleaved: Vec<f32> = match spec.sample_format {
            hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>(),
            hound::SampleFormat::Int => {
                let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
                reader.samples::<i32>().map(|s| s.map(|v| v as f32 * scale)).collect::<Result<_, _>>()
            }
        }
        .map_err(|e| err(format!("damaged sample data ({e})")))?;
        let frames = interleaved.len() / n;
        if frames == 0 {
            return Err(err("is empty (no audio frames)".into()));
        }
        let mut channels = vec![Vec::with_capacity(frames); n];
        for frame in interleaved.chunks_exact(n) {
            for (c, s) in frame.iter().enumerate() {
                channels[c].push(*s);
            }
        }
        let audio = Audio::new(spec.sample_rate, channels).map_err(|e| err(e.to_string()))?;
        if let Some((c, i)) = audio.first_non_finite() {
            return Err(err(format!("contains a non-finite sample (NaN or Inf) at frame {i}, channel {c}")));
        }
        Ok(audio)
    }

    /// Writes 32-bit float WAV atomically: a temporary file in the same folder, renamed when complete,
    /// so a failure never leaves a partial file behind.
    pub fn write_wav(&self, path: &Path) -> Result<()> {
        let err = |reason: String| EngineError::AudioFile { path: path.to_owned(), reason };
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| err(format!("cannot create ({e})")))?;
        let spec = hound::WavSpec {
            channels: self.num_channels() as u16,
            sample_rate: self.sample_rate,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        {
            let file = std::io::BufWriter::new(tmp.as_file());
            let mut w = hound::WavWriter::new(file, spec).map_err(|e| err(e.to_string()))?;
            for i in 0..self.frames() {
                for c in &self.channels {
                    w.write_sample(c[i]).map_err(|e| err(e.to_string()))?;
                }
            }
            w.finalize().map_err(|e| err(e.to_string()))?;
        }
        // Whole on disk before the name appears, and the name on disk before anyone is told: a crash
        // at any point leaves either no file or the complete one.
        tmp.as_file().sync_all().map_err(|e| err(format!("cannot sync ({e})")))?;
        tmp.persist(path).map_err(|e| err(format!("cannot write ({})", e.error)))?;
        sync_dir(dir).map_err(|e| err(format!("cannot sync its folder ({e})")))?;
        Ok(())
    }
}

/// Makes a rename in `dir` durable (Unix: fsync on the folder; elsewhere the rename is enough).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
