//! The job driver: source → model rate → windows → sampler → crossfade → host rate, streaming each
//! finished stretch of audio to the observer as soon as no later window can change it.

use super::interpolation::slerp;
use super::level;
use super::spec::{JobSpec, Mode};
use crate::audio::Audio;
use crate::denoiser::Denoiser;
use crate::error::{EngineError, Result};
use crate::noise::NoiseSource;
use crate::resample::{StreamResampler, output_frames, resample};
use crate::sampler::{self, ModelFn, StepObserver};
use crate::schedule::{alpha_sigma, variation_times};
use crate::window::{WindowPlan, place};

/// Hears about a job's progress. Called on the worker thread.
pub trait RenderObserver {
    /// Checked before every model call; `true` stops the job with [`EngineError::Cancelled`].
    fn cancelled(&self) -> bool;
    /// The plan: windows and model calls in all.
    fn planned(&mut self, windows: usize, calls: usize);
    /// One model call done.
    fn call_done(&mut self);
    /// Window `index` done.
    fn window_done(&mut self, index: usize);
    /// Final audio for output frames `[offset, offset + audio.frames())`, at the source's rate and
    /// channel count. Chunks arrive in order and tile the output.
    fn chunk(&mut self, offset: usize, audio: Audio);
}

struct Calls<'a>(&'a mut dyn RenderObserver);

impl StepObserver for Calls<'_> {
    fn before_call(&mut self) -> Result<()> {
        if self.0.cancelled() { Err(EngineError::Cancelled) } else { Ok(()) }
    }
    fn after_call(&mut self) {
        self.0.call_done();
    }
}

/// Renders `spec` with `denoiser`. Returns the whole output (source rate and layout); the same audio
/// went to the observer chunk by chunk.
pub fn render(spec: &JobSpec, denoiser: &mut dyn Denoiser, observer: &mut dyn RenderObserver) -> Result<Audio> {
    spec.validate()?;
    let info = denoiser.info().clone();
    let (host_rate, host_channels) = (spec.source.sample_rate, spec.source.num_channels());
    let to_model = |a: &Audio| -> Result<Audio> {
        let mut a = a.with_channel_count(info.channels);
        a.sanitize();
        resample(&a, info.sample_rate)
    };
    let source = to_model(&spec.source)?;
    let other = match &spec.mode {
        Mode::Interpolation { other, .. } => Some(to_model(other)?),
        _ => None,
    };
    let frames = source.frames().max(other.as_ref().map_or(0, Audio::frames));

    let settings = &spec.settings;
    let window_len = settings.window_length.unwrap_or(info.window_length).max(info.min_length);
    let overlap = settings.overlap.unwrap_or(window_len / 8);
    let plan = WindowPlan::new(frames, &info, window_len, overlap);
    let padded = plan.windows.iter().map(|w| w.start + w.len).max().unwrap_or(frames);
    let noise = initial_noise(spec, info.channels, info.sample_rate, padded)?;

    // Per window: its strength and its descending times.
    let times: Vec<Vec<f64>> = plan
        .windows
        .iter()
        .map(|w| {
            let strength = match spec.mode {
                Mode::Generation => 1.0,
                _ => spec.strength.mean(w.start as f64 / frames as f64, w.end() as f64 / frames as f64),
            };
            variation_times(settings.steps, strength)
        })
        .collect();
    let calls_per = |ts: &Vec<f64>| {
        let n = ts.len().saturating_sub(1);
        if matches!(spec.mode, Mode::Interpolation { .. }) { 3 * n } else { n }
    };
    observer.planned(plan.windows.len(), times.iter().map(calls_per).sum());

    let mut out_model = vec![vec![0.0f32; frames]; info.channels];
    // Back at the host rate the render is as long as the source (or the longer interpolation source).
    let host_frames = if frames == source.frames() {
        spec.source.frames()
    } else {
        output_frames(frames, info.sample_rate, host_rate)
    };
    let mut back = StreamResampler::new(info.sample_rate, host_rate, info.channels, host_frames)?;
    let mut emitted_model = 0;
    let mut emitted_host = 0;
    let mut whole: Vec<Vec<f32>> = vec![Vec::new(); host_channels];
    let mut emit = |observer: &mut dyn RenderObserver, planar: Vec<Vec<f32>>| {
        let audio = Audio { sample_rate: host_rate, channels: planar }.to_layout(host_channels);
        if audio.frames() > 0 {
            for (w, c) in whole.iter_mut().zip(&audio.channels) {
                w.extend_from_slice(c);
            }
            let n = audio.frames();
            observer.chunk(emitted_host, audio);
            emitted_host += n;
        }
    };

    let groups = batch_groups(spec, &plan, &times, denoiser.max_batch());
    for group in groups {
        let results: Vec<Vec<f32>> = if group.len() > 1 {
            // Windows with the same times and length step together: one model call per step.
            let ts = &times[group.start];
            let len = plan.windows[group.start].len;
            let (a, s) = alpha_sigma(ts[0]);
            let a = if matches!(spec.mode, Mode::Generation) { 0.0 } else { a as f32 };
            let mut x = Vec::with_capacity(group.len() * info.channels * len);
            for w in &plan.windows[group.clone()] {
                let x0 = source.slice_padded(w.start, w.len).channels.concat();
                let n = noise_window(&noise, w.start, w.len);
                x.extend(x0.iter().zip(&n).map(|(x, e)| a * x + s as f32 * e));
            }
            // Batches are only formed where the sampler draws no noise (see batch_groups).
            let mut unused = NoiseSource::new(settings.seed, 1 + group.start as u64);
            let mut calls = Calls(observer);
            let mut model = ModelFn::batched(denoiser, &mut calls, len, group.len());
            let out = sampler::sample(settings.sampler, &mut model, x, ts, settings.eta, &mut unused)?;
            out.chunks_exact(info.channels * len).map(<[f32]>::to_vec).collect()
        } else {
            vec![render_window(spec, denoiser, observer, &plan, group.start, &source, other.as_ref(), &noise, &times)?]
        };
        for (i, result) in group.zip(results) {
            let w = &plan.windows[i];
            let mut planar: Vec<Vec<f32>> = result.chunks_exact(w.len).map(|c| c[..w.valid].to_vec()).collect();
            if settings.match_level
                && let Some(target) = target_level(&spec.mode, &source, other.as_ref(), w.start, w.valid)
            {
                level::match_to(&mut planar, target);
            }
            place(&mut out_model, &plan, i, &planar);
            observer.window_done(i);

            let final_to = plan.final_after(i);
            let segment: Vec<Vec<f32>> = out_model.iter().map(|c| c[emitted_model..final_to].to_vec()).collect();
            emit(observer, back.push(&segment, final_to - emitted_model)?);
            emitted_model = final_to;
        }
    }
    emit(observer, back.finish()?);
    Audio::new(host_rate, whole)
}

/// The RMS a window's render is matched to: its source's, or for an interpolation the blend of its
/// two sources' (in dB, at the position); none for generation.
fn target_level(mode: &Mode, source: &Audio, other: Option<&Audio>, start: usize, len: usize) -> Option<f32> {
    let window_rms = |a: &Audio| level::rms(&a.slice_padded(start, len).channels);
    match mode {
        Mode::Variation => Some(window_rms(source)),
        Mode::Interpolation { position, .. } => {
            let (a, b) = (window_rms(source), window_rms(other?));
            let p = *position as f32;
            Some(if a > 0.0 && b > 0.0 { a.powf(1.0 - p) * b.powf(p) } else { (1.0 - p) * a + p * b })
        }
        Mode::Generation => None,
    }
}

/// Consecutive windows that can share model calls: a variation or generation whose sampler draws no
/// fresh noise, with the same times and length, at most `max_batch` at a time.
fn batch_groups(
    spec: &JobSpec,
    plan: &WindowPlan,
    times: &[Vec<f64>],
    max_batch: usize,
) -> Vec<std::ops::Range<usize>> {
    let n = plan.windows.len();
    let batchable = max_batch > 1
        && matches!(spec.mode, Mode::Variation | Mode::Generation)
        && !(spec.settings.sampler == sampler::SamplerKind::Ddim && spec.settings.eta > 0.0);
    if !batchable {
        return (0..n).map(|i| i..i + 1).collect();
    }
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=n {
        let same = i < n
            && i - start < max_batch
            && times[i] == times[start]
            && times[i].len() > 1
            && plan.windows[i].len == plan.windows[start].len;
        if !same {
            groups.push(start..i);
            start = i;
        }
    }
    groups
}

/// One window through its sampler (or passed through when its strength asks for no steps).
#[allow(clippy::too_many_arguments)]
fn render_window(
    spec: &JobSpec,
    denoiser: &mut dyn Denoiser,
    observer: &mut dyn RenderObserver,
    plan: &WindowPlan,
    i: usize,
    source: &Audio,
    other: Option<&Audio>,
    noise: &[Vec<f32>],
    times: &[Vec<f64>],
) -> Result<Vec<f32>> {
    let settings = &spec.settings;
    let w = &plan.windows[i];
    {
        let flat = |a: &Audio| a.slice_padded(w.start, w.len).channels.concat();
        let x0 = flat(source);
        let ts = &times[i];
        let mut eta_noise = NoiseSource::new(settings.seed, 1 + i as u64);
        let result = {
            let mut calls = Calls(observer);
            let mut model = ModelFn::new(denoiser, &mut calls, w.len);
            if ts.len() <= 1 {
                match &spec.mode {
                    Mode::Interpolation { position, .. } => {
                        let x1 = flat(other.expect("interpolation has a second source"));
                        x0.iter()
                            .zip(&x1)
                            .map(|(a, b)| ((1.0 - position) * *a as f64 + position * *b as f64) as f32)
                            .collect()
                    }
                    _ => x0,
                }
            } else {
                let n = noise_window(noise, w.start, w.len);
                match &spec.mode {
                    Mode::Variation | Mode::Generation => {
                        let (a, s) = alpha_sigma(ts[0]);
                        let a = if matches!(spec.mode, Mode::Generation) { 0.0 } else { a as f32 };
                        let x: Vec<f32> = x0.iter().zip(&n).map(|(x, e)| a * x + s as f32 * e).collect();
                        sampler::sample(settings.sampler, &mut model, x, ts, settings.eta, &mut eta_noise)?
                    }
                    Mode::Interpolation { position, .. } => {
                        let x1 = flat(other.expect("interpolation has a second source"));
                        let up: Vec<f64> = ts.iter().rev().copied().collect();
                        let z0 = sampler::reverse_ddim(&mut model, x0, &up)?;
                        let z1 = sampler::reverse_ddim(&mut model, x1, &up)?;
                        let z = slerp(&z0, &z1, *position);
                        sampler::sample(settings.sampler, &mut model, z, ts, settings.eta, &mut eta_noise)?
                    }
                }
            }
        };
        Ok(result)
    }
}

/// The starting noise for the whole model-rate timeline: the user's file, or the seeded draw.
/// One timeline for all windows, so overlapping windows start from the same noise where they overlap.
fn initial_noise(spec: &JobSpec, channels: usize, rate: u32, frames: usize) -> Result<Vec<Vec<f32>>> {
    match &spec.noise {
        Some(n) => {
            if n.sample_rate != rate {
                return Err(EngineError::Input(format!(
                    "the noise file is at {} Hz; it must be at the model's rate, {rate} Hz",
                    n.sample_rate
                )));
            }
            if n.frames() < frames {
                return Err(EngineError::Input(format!(
                    "the noise file has {} frames; this render needs {frames}",
                    n.frames()
                )));
            }
            Ok(n.with_channel_count(channels).channels)
        }
        None => Ok(NoiseSource::new(spec.settings.seed, 0).planar(channels, frames)),
    }
}

fn noise_window(noise: &[Vec<f32>], start: usize, len: usize) -> Vec<f32> {
    noise.iter().flat_map(|c| c[start..start + len].iter().copied()).collect()
}
