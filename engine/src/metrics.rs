//! How close two renders are: the measures the tests, benchmarks and examples share.

use crate::audio::Audio;

/// Signal-to-error ratio of `test` against `reference`, in dB over all channels (higher is closer).
pub fn snr_db(reference: &Audio, test: &Audio) -> f64 {
    let (mut signal, mut error) = (0.0f64, 0.0f64);
    for (a, b) in reference.channels.iter().zip(&test.channels) {
        for (x, y) in a.iter().zip(b) {
            signal += (*x as f64).powi(2);
            error += (*x as f64 - *y as f64).powi(2);
        }
    }
    10.0 * (signal / error.max(1e-30)).log10()
}

/// Mean log-spectral distance in dB between the first channels, over Hann-windowed frames of
/// `frame` samples taken every `hop`, at every 8th bin (a DFT: slow, but needs no FFT crate).
pub fn log_spectral_distance_db(a: &Audio, b: &Audio, frame: usize, hop: usize) -> f64 {
    let spectrum = |x: &[f32]| -> Vec<f64> {
        (0..frame / 2)
            .step_by(8)
            .map(|k| {
                let (mut re, mut im) = (0.0, 0.0);
                for (i, s) in x.iter().enumerate() {
                    let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / frame as f64).cos();
                    let ph = 2.0 * std::f64::consts::PI * (k * i) as f64 / frame as f64;
                    re += w * *s as f64 * ph.cos();
                    im -= w * *s as f64 * ph.sin();
                }
                10.0 * (re * re + im * im + 1e-10).log10()
            })
            .collect()
    };
    let frames = a.frames().min(b.frames());
    let (mut total, mut count) = (0.0, 0);
    for start in (0..frames.saturating_sub(frame)).step_by(hop.max(1)) {
        let sa = spectrum(&a.channels[0][start..start + frame]);
        let sb = spectrum(&b.channels[0][start..start + frame]);
        total += (sa.iter().zip(&sb).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / sa.len() as f64).sqrt();
        count += 1;
    }
    total / count.max(1) as f64
}
