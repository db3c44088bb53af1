//! A spectrogram of a lane, for people who read sound by eye: computed on the loader thread
//! (short-time FFT of the mono sum, log-frequency rows, dB scaled to 0–255), turned into a texture
//! once on the UI thread when it arrives.

use egui::{Color32, ColorImage};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex32;

/// FFT length in samples.
pub const FFT_SIZE: usize = 1024;
/// Image size: time columns at most, log-frequency rows.
pub const MAX_COLUMNS: usize = 1024;
/// Frequency rows (log-spaced).
pub const ROWS: usize = 128;
/// The dB range shown: from the loudest bin down this far.
pub const RANGE_DB: f32 = 80.0;
/// The lowest frequency row.
const MIN_HZ: f32 = 30.0;

/// A log-frequency spectrogram image.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrogram {
    /// Time columns.
    pub columns: usize,
    /// Frequency rows.
    pub rows: usize,
    /// Row-major, row 0 the highest frequency (image order); 0 = silence, 255 = loudest.
    pub level: Vec<u8>,
}

impl Spectrogram {
    /// The spectrogram of planar audio (channels averaged).
    pub fn compute(channels: &[Vec<f32>], sample_rate: u32) -> Self {
        let frames = channels.iter().map(Vec::len).min().unwrap_or(0);
        let scale = 1.0 / channels.len().max(1) as f32;
        let mono: Vec<f32> = (0..frames)
            .map(|i| channels.iter().map(|c| if c[i].is_finite() { c[i] } else { 0.0 }).sum::<f32>() * scale)
            .collect();
        let columns = frames.div_ceil(FFT_SIZE / 2).clamp(1, MAX_COLUMNS);
        let hop = (frames as f64 / columns as f64).max(1.0);
        let fft = FftPlanner::<f32>::new().plan_fft_forward(FFT_SIZE);
        let window: Vec<f32> = (0..FFT_SIZE)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / FFT_SIZE as f32).cos())
            .collect();
        let nyquist = sample_rate.max(2) as f32 / 2.0;
        // The FFT bin each row reads (log spaced from MIN_HZ to Nyquist), top row highest.
        let row_bin: Vec<usize> = (0..ROWS)
            .map(|r| {
                let t = 1.0 - r as f32 / (ROWS - 1) as f32;
                let hz = MIN_HZ * (nyquist / MIN_HZ).powf(t);
                ((hz / nyquist * (FFT_SIZE / 2) as f32) as usize).clamp(1, FFT_SIZE / 2 - 1)
            })
            .collect();
        let mut db = vec![f32::NEG_INFINITY; ROWS * columns];
        let mut buf = vec![Complex32::new(0.0, 0.0); FFT_SIZE];
        for c in 0..columns {
            let centre = (c as f64 * hop + hop / 2.0) as isize;
            for (k, b) in buf.iter_mut().enumerate() {
                let i = centre - (FFT_SIZE / 2) as isize + k as isize;
                let s = if i >= 0 && (i as usize) < frames { mono[i as usize] } else { 0.0 };
                *b = Complex32::new(s * window[k], 0.0);
            }
            fft.process(&mut buf);
            for (r, &bin) in row_bin.iter().enumerate() {
                db[r * columns + c] = 10.0 * (buf[bin].norm_sqr() + 1e-12).log10();
            }
        }
        let top = db.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let level = db.iter().map(|&d| (((d - top + RANGE_DB) / RANGE_DB).clamp(0.0, 1.0) * 255.0) as u8).collect();
        Self { columns, rows: ROWS, level }
    }

    /// The image for a texture (UI thread, once per spectrogram).
    pub fn image(&self) -> ColorImage {
        let pixels = self.level.iter().map(|&l| colormap(l)).collect();
        ColorImage::new([self.columns, self.rows], pixels)
    }
}

/// Dark blue → magenta → orange → pale yellow.
pub fn colormap(level: u8) -> Color32 {
    const STOPS: [(f32, [f32; 3]); 5] = [
        (0.0, [8.0, 8.0, 24.0]),
        (0.3, [70.0, 20.0, 110.0]),
        (0.55, [180.0, 40.0, 110.0]),
        (0.8, [250.0, 140.0, 40.0]),
        (1.0, [255.0, 250.0, 190.0]),
    ];
    let t = level as f32 / 255.0;
    let k = STOPS.iter().position(|(p, _)| *p >= t).unwrap_or(STOPS.len() - 1).max(1);
    let ((p0, c0), (p1, c1)) = (STOPS[k - 1], STOPS[k]);
    let f = ((t - p0) / (p1 - p0)).clamp(0.0, 1.0);
    let mix = |i: usize| (c0[i] + (c1[i] - c0[i]) * f) as u8;
    Color32::from_rgb(mix(0), mix(1), mix(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sine_lights_its_row() {
        let rate = 48_000;
        let hz = 1000.0;
        let x: Vec<f32> = (0..rate).map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin()).collect();
        let s = Spectrogram::compute(&[x], rate as u32);
        assert_eq!(s.rows, ROWS);
        assert!(s.columns > 10 && s.columns <= MAX_COLUMNS);
        let mid = s.columns / 2;
        let brightest = (0..s.rows).max_by_key(|&r| s.level[r * s.columns + mid]).unwrap();
        let t = 1.0 - brightest as f32 / (ROWS - 1) as f32;
        let row_hz = MIN_HZ * (24_000.0 / MIN_HZ).powf(t);
        assert!((row_hz / hz - 1.0).abs() < 0.1, "brightest row at {row_hz} Hz");
        assert_eq!(s.image().size, [s.columns, s.rows]);
    }

    #[test]
    fn silence_and_empty_do_not_panic() {
        let s = Spectrogram::compute(&[vec![0.0; 100]], 48_000);
        assert_eq!(s.columns, 1);
        let e = Spectrogram::compute(&[Vec::new()], 48_000);
        assert_eq!(e.level.len(), e.rows * e.columns);
        assert_eq!(colormap(0), Color32::from_rgb(8, 8, 24));
        assert_eq!(colormap(255), Color32::from_rgb(255, 250, 190));
    }
}
