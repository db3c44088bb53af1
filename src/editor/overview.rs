//! Min/max overviews of a take or a source: computed once per audio file on the editor's loader
//! thread (never on the audio or UI thread), reduced to the lane's pixel width when drawn.

/// Buckets an overview keeps: enough for a 4K-wide lane, small enough to reduce every frame.
pub const OVERVIEW_BUCKETS: usize = 4096;

/// Per-bucket minimum and maximum over all channels, plus the loudness of the whole file.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    /// The audio's rate.
    pub sample_rate: u32,
    /// Frames of the audio the overview stands for.
    pub frames: usize,
    /// `min[i] ≤ max[i]`, bucket `i` covering frames `[i·frames/n, (i+1)·frames/n)`.
    pub min: Vec<f32>,
    /// Per column, the largest sample.
    pub max: Vec<f32>,
    /// RMS over every sample of every channel (linear): the A/B loudness match's fallback.
    pub rms: f32,
    /// Integrated loudness (ITU-R BS.1770, LUFS), which the A/B match compares; `None` when there
    /// is none to measure (shorter than one 400 ms block, or all below the -70 LUFS gate).
    pub lufs: Option<f32>,
    /// Largest absolute sample.
    pub peak: f32,
}

impl Overview {
    /// Planar `channels` (equal lengths) into at most `buckets` buckets. Non-finite samples count
    /// as silence.
    pub fn from_channels(channels: &[Vec<f32>], sample_rate: u32, buckets: usize) -> Self {
        let frames = channels.iter().map(Vec::len).min().unwrap_or(0);
        let n = buckets.min(frames).max(if frames > 0 { 1 } else { 0 });
        let mut min = vec![0.0f32; n];
        let mut max = vec![0.0f32; n];
        let (mut sum_sq, mut peak) = (0.0f64, 0.0f32);
        for i in 0..n {
            let (a, b) = (i * frames / n, ((i + 1) * frames / n).max(i * frames / n + 1));
            let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
            for c in channels {
                for &s in &c[a..b.min(frames)] {
                    let s = if s.is_finite() { s } else { 0.0 };
                    lo = lo.min(s);
                    hi = hi.max(s);
                    sum_sq += (s as f64) * (s as f64);
                    peak = peak.max(s.abs());
                }
            }
            min[i] = if lo.is_finite() { lo } else { 0.0 };
            max[i] = if hi.is_finite() { hi } else { 0.0 };
        }
        let count = (frames * channels.len()).max(1) as f64;
        let lufs = integrated_lufs(channels, frames, sample_rate);
        Self { sample_rate, frames, min, max, rms: (sum_sq / count).sqrt() as f32, lufs, peak }
    }

    /// Length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.frames as f64 / self.sample_rate.max(1) as f64
    }

    /// (min, max) per column for a lane `width` columns wide: each column folds the buckets it
    /// covers, so no peak falls between columns. Empty for an empty overview.
    pub fn columns(&self, width: usize) -> Vec<(f32, f32)> {
        let n = self.min.len();
        if n == 0 || width == 0 {
            return Vec::new();
        }
        (0..width)
            .map(|c| {
                let a = c * n / width;
                let b = ((c + 1) * n / width).max(a + 1).min(n);
                let lo = self.min[a..b].iter().copied().fold(f32::INFINITY, f32::min);
                let hi = self.max[a..b].iter().copied().fold(f32::NEG_INFINITY, f32::max);
                (lo, hi)
            })
            .collect()
    }
}

/// BS.1770 integrated loudness of the first `frames` of `channels`; non-finite samples as silence.
fn integrated_lufs(channels: &[Vec<f32>], frames: usize, sample_rate: u32) -> Option<f32> {
    const CHUNK: usize = 8192;
    let mut meter = ebur128::EbuR128::new(channels.len() as u32, sample_rate, ebur128::Mode::I).ok()?;
    let mut buf = vec![vec![0.0f32; CHUNK]; channels.len()];
    for start in (0..frames).step_by(CHUNK) {
        let n = CHUNK.min(frames - start);
        for (b, c) in buf.iter_mut().zip(channels) {
            for (d, s) in b[..n].iter_mut().zip(&c[start..start + n]) {
                *d = if s.is_finite() { *s } else { 0.0 };
            }
        }
        let planes: Vec<&[f32]> = buf.iter().map(|b| &b[..n]).collect();
        meter.add_frames_planar_f32(&planes).ok()?;
    }
    meter.loudness_global().ok().filter(|l| l.is_finite()).map(|l| l as f32)
}

/// Loudness match limits: the take is never pushed or cut by more than this.
pub const MAX_MATCH_DB: f32 = 24.0;

/// The gain that makes the take as loud as the source — in LUFS, or by RMS where either has no
/// integrated loudness — limited to ±[`MAX_MATCH_DB`]; 1 when either is silent.
pub fn loudness_match_gain(source: &Overview, take: &Overview) -> f32 {
    let limit = 10f32.powf(MAX_MATCH_DB / 20.0);
    let gain = match (source.lufs, take.lufs) {
        (Some(s), Some(t)) => 10f32.powf((s - t) / 20.0),
        _ if source.rms <= 1e-6 || take.rms <= 1e-6 => return 1.0,
        _ => source.rms / take.rms,
    };
    gain.clamp(1.0 / limit, limit)
}

/// Linear gain in dB, for labels.
pub fn gain_db(gain: f32) -> f32 {
    20.0 * gain.max(1e-9).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_keep_peaks_of_all_channels() {
        let mut l = vec![0.0f32; 1000];
        let mut r = vec![0.0f32; 1000];
        l[10] = 0.9;
        r[510] = -0.7;
        l[999] = f32::NAN;
        let o = Overview::from_channels(&[l, r], 48_000, 10);
        assert_eq!(o.min.len(), 10);
        assert_eq!(o.max[0], 0.9);
        assert_eq!(o.min[5], -0.7);
        assert_eq!((o.min[9], o.max[9]), (0.0, 0.0), "NaN counts as silence");
        assert_eq!(o.peak, 0.9);
        assert!(o.min.iter().zip(&o.max).all(|(a, b)| a <= b));
    }

    #[test]
    fn short_and_empty_audio() {
        let o = Overview::from_channels(&[vec![0.5, -0.5, 0.25]], 8000, 4096);
        assert_eq!(o.min.len(), 3);
        assert_eq!(o.max, vec![0.5, -0.5, 0.25]);
        let e = Overview::from_channels(&[Vec::new()], 8000, 4096);
        assert!(e.min.is_empty() && e.columns(100).is_empty());
        assert_eq!(e.rms, 0.0);
    }

    #[test]
    fn columns_fold_buckets_without_losing_peaks() {
        let mut x = vec![0.0f32; 4096];
        x[4095] = 1.0;
        x[3] = -1.0;
        let o = Overview::from_channels(&[x], 48_000, 4096);
        let cols = o.columns(100);
        assert_eq!(cols.len(), 100);
        assert_eq!(cols[0].0, -1.0);
        assert_eq!(cols[99].1, 1.0);
        // Wider than the overview: columns repeat buckets.
        let wide = Overview::from_channels(&[vec![1.0, -1.0]], 100, 16).columns(4);
        assert_eq!(wide, vec![(1.0, 1.0), (1.0, 1.0), (-1.0, -1.0), (-1.0, -1.0)]);
    }

    #[test]
    fn loudness_is_perceptual_not_rms() {
        // Same RMS, different frequency: K-weighting hears 40 Hz as quieter than 2 kHz, so the
        // low take is turned up to match (RMS would call them equal).
        let tone = |hz: f32| -> Vec<f32> {
            (0..96_000).map(|i| 0.3 * (i as f32 * hz * std::f32::consts::TAU / 48_000.0).sin()).collect()
        };
        let mid = Overview::from_channels(&[tone(2000.0)], 48_000, 64);
        let low = Overview::from_channels(&[tone(40.0)], 48_000, 64);
        assert!((mid.rms - low.rms).abs() < 1e-3);
        assert!(gain_db(loudness_match_gain(&mid, &low)) > 3.0);
    }

    #[test]
    fn rms_and_loudness_match() {
        let sine: Vec<f32> = (0..48_000).map(|i| (i as f32 * 0.05).sin()).collect();
        let half: Vec<f32> = sine.iter().map(|s| s * 0.5).collect();
        let a = Overview::from_channels(std::slice::from_ref(&sine), 48_000, 512);
        let b = Overview::from_channels(&[half], 48_000, 512);
        assert!((a.rms - std::f32::consts::FRAC_1_SQRT_2).abs() < 0.01);
        assert!(a.lufs.is_some() && b.lufs.is_some(), "1 s of sine has an integrated loudness");
        let g = loudness_match_gain(&a, &b);
        assert!((g - 2.0).abs() < 1e-3, "{g}");
        assert!((gain_db(g) - 6.02).abs() < 0.01);
        let silent = Overview::from_channels(&[vec![0.0; 100]], 48_000, 10);
        assert_eq!(loudness_match_gain(&a, &silent), 1.0);
        let tiny = Overview::from_channels(&[vec![1e-4; 100]], 48_000, 10);
        assert!((gain_db(loudness_match_gain(&a, &tiny)) - MAX_MATCH_DB).abs() < 1e-3);
    }
}
