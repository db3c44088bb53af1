//! Demo mode (`REDANCE_EDITOR_DEMO=1`): a synthetic capture, three takes and a render in progress,
//! so the editor can be looked at and screenshot-tested without a host, a model or a sound card.
//! Nothing here runs unless that variable is set.

use crate::shared::Shared;
use crate::state::manifest::{FileRef, SourceEntry, TakeEntry, TakesManifest};
use std::f32::consts::TAU;
use std::sync::atomic::Ordering;

/// The demo's sample rate.
pub const RATE: u32 = 48_000;
/// 4 bars of 4/4 at 120 BPM.
pub const FRAMES: usize = 8 * RATE as usize;
/// The demo's tempo.
pub const TEMPO_BPM: f32 = 120.0;
/// The demo source's lane key.
pub const SOURCE_KEY: &str = "demo-source";
/// The demo take's lane key.
pub const TAKE_KEY: &str = "demo-take-3";

/// `REDANCE_EDITOR_DEMO=1`: show the demo instead of the instance.
pub fn enabled() -> bool {
    std::env::var_os("REDANCE_EDITOR_DEMO").is_some_and(|v| !v.is_empty() && v != "0")
}

/// A kick-and-bass loop (source) and a smeared, brighter variation of it (take), stereo.
pub fn audio() -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let beat = RATE as f32 * 60.0 / TEMPO_BPM;
    let mut noise = 0x1234_5678u32;
    let mut source = vec![0.0f32; FRAMES];
    let mut take = vec![0.0f32; FRAMES];
    for i in 0..FRAMES {
        let t = i as f32 / RATE as f32;
        let in_beat = (i as f32 % beat) / RATE as f32;
        let beat_idx = (i as f32 / beat) as usize;
        noise ^= noise << 13;
        noise ^= noise >> 17;
        noise ^= noise << 5;
        let n = noise as f32 / u32::MAX as f32 * 2.0 - 1.0;
        let kick = (TAU * 55.0 * in_beat).sin() * (-in_beat * 18.0).exp();
        let hat = if beat_idx % 2 == 1 { n * (-in_beat * 60.0).exp() * 0.3 } else { 0.0 };
        let bass = (TAU * [55.0, 65.4, 73.4, 49.0][(beat_idx / 4) % 4] * t).sin() * 0.2;
        source[i] = 0.8 * kick + hat + bass;
        let swell = 0.5 + 0.5 * (TAU * t / 8.0).sin();
        take[i] = 0.55 * kick + hat * 1.5 + bass * 0.8 + n * 0.12 * swell + (TAU * 440.0 * t).sin() * 0.08 * swell;
    }
    let pan = |x: &[f32], g: f32| {
        vec![x.iter().map(|s| s * g).collect::<Vec<_>>(), x.iter().map(|s| s * (1.0 - g * 0.3)).collect()]
    };
    (pan(&source, 1.0), pan(&take, 0.9))
}

fn file(key: &str) -> FileRef {
    FileRef { name: format!("{key}.wav"), sha256: key.into(), sample_rate: RATE, channels: 2, frames: FRAMES }
}

/// The demo's history.
pub fn manifest() -> TakesManifest {
    let take = |id: u64, seed: u64, strength: f32, kept: bool| TakeEntry {
        id,
        file: file(if id == 3 { TAKE_KEY } else { "demo-older" }),
        source_sha256: SOURCE_KEY.into(),
        start_pos: Some(0),
        mode: "variation".into(),
        seed,
        steps: 50,
        sampler: "DPM++ 2M".into(),
        strength,
        kept,
    };
    TakesManifest {
        source: Some(SourceEntry {
            file: file(SOURCE_KEY),
            start_pos: Some(0),
            strength: (0..64).map(|i| 0.3 + 0.5 * (i as f32 / 63.0).powi(2)).collect(),
        }),
        history: vec![take(1, 7, 0.35, true), take(2, 1234, 0.5, false), take(3, 42, 0.55, false)],
        current: Some(3),
        ..TakesManifest::default()
    }
}

/// A render of take 4 under way, the transport playing in bar 2.
pub fn fill_status(shared: &Shared) {
    let s = &shared.status;
    s.rendering.store(true, Ordering::Relaxed);
    s.render_progress.store(0.56, Ordering::Relaxed);
    s.render_windows_done.store(2, Ordering::Relaxed);
    s.render_windows_total.store(5, Ordering::Relaxed);
    s.render_calls_done.store(84, Ordering::Relaxed);
    s.render_calls_total.store(150, Ordering::Relaxed);
    s.take_frames_total.store(FRAMES, Ordering::Relaxed);
    s.transport_playing.store(true, Ordering::Relaxed);
    s.transport_has_pos.store(true, Ordering::Relaxed);
    s.transport_pos_samples.store((FRAMES as f32 * 0.37) as i64, Ordering::Relaxed);
    s.transport_tempo_bpm.store(TEMPO_BPM, Ordering::Relaxed);
    s.transport_bar_beats.store(4.0, Ordering::Relaxed);
    s.set_message("Rendering take 4 on CPU (5 windows)", false);
}
