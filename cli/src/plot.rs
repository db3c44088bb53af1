//! `--plot`: source above, result below; each a waveform (min/max per pixel column, left channel
//! green, right blue) over a log-magnitude spectrogram (0 Hz at the bottom, Nyquist at the top).

use image::{Rgb, RgbImage};
use realfft::RealFftPlanner;
use redance_engine::{Audio, EngineError};
use std::path::Path;

const WIDTH: u32 = 1200;
const WAVE_H: u32 = 160;
const SPEC_H: u32 = 240;
const GAP: u32 = 8;
const FFT: usize = 2048;

pub fn draw(source: &Audio, result: &Audio, path: &Path) -> Result<(), EngineError> {
    let lane = WAVE_H + SPEC_H + GAP;
    let mut img = RgbImage::from_pixel(WIDTH, 2 * lane, Rgb([18, 18, 22]));
    for (k, audio) in [source, result].into_iter().enumerate() {
        let y0 = k as u32 * lane;
        waveform(&mut img, audio, y0);
        spectrogram(&mut img, audio, y0 + WAVE_H);
    }
    let tmp = path.with_extension("png.part");
    img.save_with_format(&tmp, image::ImageFormat::Png)
        .and_then(|()| std::fs::rename(&tmp, path).map_err(image::ImageError::IoError))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            EngineError::AudioFile { path: path.to_owned(), reason: format!("cannot write the plot ({e})") }
        })
}

fn waveform(img: &mut RgbImage, audio: &Audio, y0: u32) {
    let frames = audio.frames().max(1);
    let colours = [Rgb([90, 220, 120]), Rgb([90, 160, 255])];
    let mid = y0 as f32 + WAVE_H as f32 / 2.0;
    for (c, ch) in audio.channels.iter().take(2).enumerate() {
        for x in 0..WIDTH {
            let a = x as usize * frames / WIDTH as usize;
            let b = ((x as usize + 1) * frames / WIDTH as usize).clamp(a + 1, frames);
            let (lo, hi) =
                ch[a.min(frames - 1)..b].iter().fold((0.0f32, 0.0f32), |(lo, hi), &s| (lo.min(s), hi.max(s)));
            let half = WAVE_H as f32 / 2.0 - 2.0;
            let top = (mid - hi.clamp(-1.0, 1.0) * half) as u32;
            let bottom = (mid - lo.clamp(-1.0, 1.0) * half) as u32;
            for y in top..=bottom.min(y0 + WAVE_H - 1) {
                img.put_pixel(x, y, colours[c]);
            }
        }
    }
}

fn spectrogram(img: &mut RgbImage, audio: &Audio, y0: u32) {
    let frames = audio.frames();
    let mono: Vec<f32> =
        (0..frames).map(|i| audio.channels.iter().map(|c| c[i]).sum::<f32>() / audio.num_channels() as f32).collect();
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let window: Vec<f32> =
        (0..FFT).map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / FFT as f32).cos()).collect();
    for x in 0..WIDTH {
        let centre = x as usize * frames / WIDTH as usize;
        for (i, v) in input.iter_mut().enumerate() {
            let idx = (centre + i).checked_sub(FFT / 2);
            *v = idx.and_then(|j| mono.get(j)).copied().unwrap_or(0.0) * window[i];
        }
        if fft.process(&mut input, &mut spectrum).is_err() {
            continue;
        }
        for y in 0..SPEC_H {
            // Log-frequency axis: low bins get more rows, as the ear does.
            let frac = 1.0 - (y as f32 + 0.5) / SPEC_H as f32;
            let bin = ((FFT / 2) as f32).powf(frac).min((FFT / 2) as f32) as usize;
            let db = 20.0 * (spectrum[bin].norm() / (FFT as f32 / 4.0) + 1e-9).log10();
            let level = ((db + 100.0) / 100.0).clamp(0.0, 1.0);
            img.put_pixel(x, y0 + y, heat(level));
        }
    }
}

/// Dark blue → purple → orange → yellow.
fn heat(v: f32) -> Rgb<u8> {
    let r = (255.0 * (1.5 * v).min(1.0)) as u8;
    let g = (255.0 * (2.0 * v - 1.0).clamp(0.0, 1.0)) as u8;
    let b = (255.0 * (0.4 + 0.6 * (1.0 - 2.0 * v).abs()).clamp(0.0, 1.0) * (1.0 - v)) as u8;
    Rgb([r, g, b])
}
