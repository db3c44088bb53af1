//! `--plot`: one lane per sound (source above, result below), each a title, a waveform (min/max per
//! pixel column, left channel green above right blue) and a log-frequency spectrogram with labelled
//! time and frequency axes and a dB colour legend. All lanes share one time scale.

mod axes;

use axes::{Align, DB_FLOOR, F_MIN, Pen};
use image::{Rgb, RgbImage};
use realfft::RealFftPlanner;
use redance_engine::{Audio, EngineError};
use std::path::Path;

const WIDTH: u32 = 1200;
/// Margins: axis labels on the left, the colour legend on the right.
const LEFT: u32 = 80;
const RIGHT: u32 = 90;
const PLOT_W: u32 = WIDTH - LEFT - RIGHT;
const TITLE_H: u32 = 30;
const WAVE_H: u32 = 120;
const GAP: u32 = 6;
const SPEC_H: u32 = 260;
const AXIS_H: u32 = 34;
const LANE_H: u32 = TITLE_H + WAVE_H + GAP + SPEC_H + AXIS_H;
const FFT: usize = 2048;
const BACKGROUND: Rgb<u8> = Rgb([18, 18, 22]);
const PANEL: Rgb<u8> = Rgb([28, 28, 34]);
const CHANNELS: [(Rgb<u8>, &str); 2] = [(Rgb([90, 220, 120]), "L"), (Rgb([90, 160, 255]), "R")];

/// Draws `lanes` (title, sound) top to bottom and writes the PNG atomically (`.png.part`, then
/// renamed), so a failed write leaves no half picture behind.
pub fn draw(lanes: &[(&str, &Audio)], path: &Path) -> Result<(), EngineError> {
    let mut img = RgbImage::from_pixel(WIDTH, LANE_H * lanes.len() as u32, BACKGROUND);
    let pen = Pen::new();
    // One time scale for all, so the same moment sits at the same x in every lane.
    let seconds = lanes.iter().map(|(_, a)| a.duration_s()).fold(1e-3, f64::max);
    for (k, &(title, audio)) in lanes.iter().enumerate() {
        let y0 = k as u32 * LANE_H;
        pen.text(&mut img, title, 15.0, (LEFT as f32, (y0 + TITLE_H / 2 + 2) as f32), Align::Left, Rgb([235; 3]));
        waveform(&mut img, &pen, audio, seconds, y0 + TITLE_H);
        let spec_y = y0 + TITLE_H + WAVE_H + GAP;
        spectrogram(&mut img, audio, seconds, spec_y);
        let nyquist = (audio.sample_rate as f32 / 2.0).max(2.0 * F_MIN);
        axes::freq_axis(&mut img, &pen, (LEFT, spec_y), SPEC_H, nyquist);
        axes::time_axis(&mut img, &pen, (LEFT, spec_y + SPEC_H), PLOT_W, seconds);
        axes::colour_bar(&mut img, &pen, (LEFT + PLOT_W + 16, spec_y + 26), SPEC_H - 32, heat);
    }
    let tmp = path.with_extension("png.part");
    img.save_with_format(&tmp, image::ImageFormat::Png)
        .and_then(|()| std::fs::rename(&tmp, path).map_err(image::ImageError::IoError))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            EngineError::AudioFile { path: path.to_owned(), reason: format!("cannot write the plot ({e})") }
        })
}

/// The source frames that pixel column `x` covers when the plot shows `seconds` in all.
fn columns(audio: &Audio, seconds: f64, x: u32) -> (usize, usize) {
    let frame = |x: u32| (x as f64 / PLOT_W as f64 * seconds * audio.sample_rate as f64) as usize;
    (frame(x), frame(x + 1).max(frame(x) + 1))
}

/// One strip per channel (left above right) rather than overlaid, so neither hides the other;
/// full scale (±1) fills a strip.
fn waveform(img: &mut RgbImage, pen: &Pen, audio: &Audio, seconds: f64, y0: u32) {
    let strips = audio.num_channels().min(2) as u32;
    let strip_h = WAVE_H / strips;
    for (c, (ch, (colour, name))) in audio.channels.iter().zip(CHANNELS).enumerate() {
        let top = y0 + c as u32 * strip_h;
        // A one-pixel gap of background between strips.
        for y in top..top + strip_h - 1 {
            axes::hline(img, LEFT..LEFT + PLOT_W, y, PANEL);
        }
        let mid = top + strip_h / 2;
        let half = strip_h as f32 / 2.0 - 2.0;
        axes::hline(img, LEFT..LEFT + PLOT_W, mid, axes::TICK);
        let name = if strips == 1 { "mono" } else { name };
        pen.text(img, name, axes::SMALL, (LEFT as f32 - 8.0, mid as f32), Align::Right, colour);
        for x in 0..PLOT_W {
            let (a, b) = columns(audio, seconds, x);
            let Some(samples) = ch.get(a..b.min(ch.len())).filter(|s| !s.is_empty()) else { break };
            let (lo, hi) = samples.iter().fold((0.0f32, 0.0f32), |(lo, hi), &s| (lo.min(s), hi.max(s)));
            let y = |v: f32| (mid as f32 - v.clamp(-1.0, 1.0) * half).round() as u32;
            axes::vline(img, LEFT + x, y(hi)..y(lo) + 1, colour);
        }
    }
}

fn spectrogram(img: &mut RgbImage, audio: &Audio, seconds: f64, y0: u32) {
    let frames = audio.frames();
    let mono: Vec<f32> =
        (0..frames).map(|i| audio.channels.iter().map(|c| c[i]).sum::<f32>() / audio.num_channels() as f32).collect();
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let window: Vec<f32> =
        (0..FFT).map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / FFT as f32).cos()).collect();
    // Each row covers a band of FFT bins, a fraction of one bin low down and many near the top:
    // averaging the power over the band keeps high rows from skipping energy between bins.
    let nyquist = (audio.sample_rate as f32 / 2.0).max(2.0 * F_MIN);
    let bin_hz = audio.sample_rate as f32 / FFT as f32;
    let bin = |row: f32| F_MIN * (nyquist / F_MIN).powf(1.0 - row / SPEC_H as f32) / bin_hz;
    // Rows narrower than a bin (the low end) interpolate between the two nearest bins instead, so
    // the bass is a gradient rather than a stack of flat bands.
    let bands: Vec<(usize, usize, f32)> = (0..SPEC_H)
        .map(|y| {
            let (lo, hi) = (bin(y as f32 + 1.0), bin(y as f32));
            let a = (lo.round() as usize).min(FFT / 2);
            (a, (hi.round() as usize).clamp(a + 1, FFT / 2 + 1), if hi - lo < 1.0 { (lo * hi).sqrt() } else { -1.0 })
        })
        .collect();
    for x in 0..PLOT_W {
        let (start, _) = columns(audio, seconds, x);
        if start >= frames {
            break;
        }
        for (i, v) in input.iter_mut().enumerate() {
            let idx = (start + i).checked_sub(FFT / 2);
            *v = idx.and_then(|j| mono.get(j)).copied().unwrap_or(0.0) * window[i];
        }
        if fft.process(&mut input, &mut spectrum).is_err() {
            continue;
        }
        for (y, &(a, b, k)) in bands.iter().enumerate() {
            let power = if k >= 0.0 {
                let (i, f) = ((k as usize).min(FFT / 2 - 1), k.fract());
                spectrum[i].norm_sqr() * (1.0 - f) + spectrum[i + 1].norm_sqr() * f
            } else {
                spectrum[a..b].iter().map(|c| c.norm_sqr()).sum::<f32>() / (b - a) as f32
            };
            // A full-scale sine peaks at FFT/4 through a Hann window: that is 0 dBFS.
            let db = 10.0 * (power / (FFT as f32 / 4.0).powi(2) + 1e-12).log10();
            img.put_pixel(LEFT + x, y0 + y as u32, heat(1.0 - db / DB_FLOOR));
        }
    }
}

/// A perceptually even black → purple → orange → pale yellow scale ("inferno"), `v` in 0..=1.
fn heat(v: f32) -> Rgb<u8> {
    const STOPS: [[f32; 3]; 9] = [
        [0.0, 0.0, 4.0],
        [31.0, 12.0, 72.0],
        [85.0, 15.0, 109.0],
        [136.0, 34.0, 106.0],
        [186.0, 54.0, 85.0],
        [227.0, 89.0, 51.0],
        [249.0, 140.0, 10.0],
        [249.0, 201.0, 50.0],
        [252.0, 255.0, 164.0],
    ];
    let t = v.clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
    let i = (t as usize).min(STOPS.len() - 2);
    let f = t - i as f32;
    Rgb(std::array::from_fn(|c| (STOPS[i][c] + (STOPS[i + 1][c] - STOPS[i][c]) * f).round() as u8))
}
