//! A scratch stand-in for Redance ("RedanceMock"): same parameter names, edge-triggered Capture,
//! bar-aligned capture with a transport, "render" on a thread (take = (1-s)*src + s*0.25*noise(seed)),
//! in-place playback, take persisted in the state. Also has a plain "Gain" parameter.
use nice_plug::prelude::*;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::sync::{Arc, Condvar, Mutex};

#[derive(Enum, PartialEq, Clone, Copy, Debug)]
pub enum StartMode {
    #[name = "Next bar"]
    NextBar,
    #[name = "Immediately"]
    Immediately,
}

#[derive(Serialize, Deserialize, Default, Clone)]
pub struct Take {
    pub id: u64,
    /// transport sample position where capture began, or -1 when captured without transport
    pub start: i64,
    pub data: Vec<Vec<f32>>,
}

#[derive(Params)]
pub struct MockParams {
    #[id = "gain"]
    pub gain: FloatParam,
    #[id = "capture"]
    pub capture: BoolParam,
    #[id = "length"]
    pub length: IntParam,
    #[id = "start"]
    pub start: EnumParam<StartMode>,
    #[id = "auto"]
    pub auto_render: BoolParam,
    #[id = "strength"]
    pub strength: FloatParam,
    #[id = "steps"]
    pub steps: IntParam,
    #[id = "seed"]
    pub seed: IntParam,
    #[id = "mix"]
    pub mix: FloatParam,
    #[id = "loop"]
    pub looping: BoolParam,
    #[persist = "take"]
    pub take: Mutex<Take>,
}

struct Shared {
    pending: Mutex<bool>,
    cv: Condvar,
}

pub struct Mock {
    params: Arc<MockParams>,
    shared: Arc<Shared>,
    sr: f32,
    offline: bool,
    prev_capture: bool,
    armed: bool,
    capturing: bool,
    cap_start: i64,
    cap_len: usize,
    cap: Vec<Vec<f32>>,
    cap_s: Vec<f32>,
    seen_id: u64,
    free_pos: usize,
    next_id: u64,
}

impl Default for Mock {
    fn default() -> Self {
        Self {
            params: Arc::new(MockParams {
                gain: FloatParam::new("Gain", 1.0, FloatRange::Linear { min: 0.0, max: 2.0 }),
                capture: BoolParam::new("Capture", false),
                length: IntParam::new("Length", 1, IntRange::Linear { min: 1, max: 8 }),
                start: EnumParam::new("Start", StartMode::NextBar),
                auto_render: BoolParam::new("Auto render", true),
                strength: FloatParam::new("Strength", 0.5, FloatRange::Linear { min: 0.0, max: 1.0 }),
                steps: IntParam::new("Steps", 4, IntRange::Linear { min: 1, max: 100 }),
                seed: IntParam::new("Seed", 0, IntRange::Linear { min: 0, max: 9999 }),
                mix: FloatParam::new("Mix", 1.0, FloatRange::Linear { min: 0.0, max: 1.0 }),
                looping: BoolParam::new("Loop", false),
                take: Mutex::new(Take::default()),
            }),
            shared: Arc::new(Shared { pending: Mutex::new(false), cv: Condvar::new() }),
            sr: 48000.0,
            offline: false,
            prev_capture: false,
            armed: false,
            capturing: false,
            cap_start: 0,
            cap_len: 0,
            cap: vec![],
            cap_s: vec![],
            seen_id: 0,
            free_pos: 0,
            next_id: 1,
        }
    }
}

fn noise(seed: u64, i: u64) -> f32 {
    let mut x = seed.wrapping_mul(0x9E3779B97F4A7C15) ^ i.wrapping_mul(0xBF58476D1CE4E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D049BB133111EB);
    x ^= x >> 29;
    (x as f64 / u64::MAX as f64 * 2.0 - 1.0) as f32
}

impl Mock {
    fn finish_capture(&mut self) {
        self.capturing = false;
        let src = std::mem::take(&mut self.cap);
        let s = std::mem::take(&mut self.cap_s);
        let seed = self.params.seed.value() as u64;
        let steps = self.params.steps.value() as u64;
        let start = self.cap_start;
        let id = self.next_id + ((self.seen_id + 1) << 20);
        self.next_id += 1;
        let params = self.params.clone();
        let shared = self.shared.clone();
        *shared.pending.lock().unwrap() = true;
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50 * steps));
            let data: Vec<Vec<f32>> = src
                .iter()
                .map(|ch| {
                    ch.iter()
                        .enumerate()
                        .map(|(i, &x)| (1.0 - s[i]) * x + s[i] * 0.25 * noise(seed, i as u64))
                        .collect()
                })
                .collect();
            *params.take.lock().unwrap() = Take { id, start, data };
            *shared.pending.lock().unwrap() = false;
            shared.cv.notify_all();
        });
    }
}

impl Plugin for Mock {
    const NAME: &'static str = "RedanceMock";
    const VENDOR: &'static str = "scratch";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = "0.1.0";
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];
    type SysExMessage = ();
    type Editor = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn activate(&mut self, _l: &AudioIOLayout, cfg: &BufferConfig, _c: &mut impl ActivateContext<Self>) -> bool {
        self.sr = cfg.sample_rate;
        self.offline = cfg.process_mode == ProcessMode::Offline;
        eprintln!("[mock] activate sr={} max={} mode={:?}", cfg.sample_rate, cfg.max_buffer_size, cfg.process_mode);
        true
    }

    fn process(&mut self, buffer: &mut Buffer, _aux: &mut AuxiliaryBuffers, ctx: &mut impl ProcessContext<Self>) -> ProcessStatus {
        let n = buffer.samples();
        let t = ctx.transport();
        let playing = t.playing;
        let pos = t.pos_samples();
        let tempo = t.tempo;
        let pos_beats = t.pos_beats();
        let bpb = match (t.time_sig_numerator, t.time_sig_denominator) {
            (Some(a), Some(b)) => a as f64 * 4.0 / b as f64,
            _ => 4.0,
        };
        let gain = self.params.gain.value();
        let strength = self.params.strength.value();
        let mix = self.params.mix.value();
        let cap = self.params.capture.value();
        if cap && !self.prev_capture {
            self.armed = true;
            eprintln!("[mock] armed: playing={} pos={:?} tempo={:?} beats={:?} sig={:?}/{:?}", playing, pos, tempo, pos_beats, t.time_sig_numerator, t.time_sig_denominator);
        }
        self.prev_capture = cap;
        let chans = buffer.channels();
        let transport_ok = playing && tempo.is_some() && pos.is_some() && pos_beats.is_some();

        // arm -> capture start offset within this block
        let mut cap_from: Option<usize> = None;
        if self.armed && !self.capturing {
            if transport_ok && self.params.start.value() == StartMode::NextBar {
                let tempo = tempo.unwrap();
                let pb = pos_beats.unwrap();
                let bar = (pb / bpb - 1e-9).ceil() * bpb;
                let spb = 60.0 / tempo * self.sr as f64;
                let off = ((bar - pb) * spb).round() as i64;
                if off < n as i64 {
                    cap_from = Some(off.max(0) as usize);
                    self.cap_start = pos.unwrap() + off.max(0);
                    self.cap_len = (self.params.length.value() as f64 * bpb * spb).round() as usize;
                }
            } else {
                cap_from = Some(0);
                if transport_ok {
                    let spb = 60.0 / tempo.unwrap() * self.sr as f64;
                    self.cap_start = pos.unwrap();
                    self.cap_len = (self.params.length.value() as f64 * bpb * spb).round() as usize;
                } else {
                    self.cap_start = -1;
                    self.cap_len = (self.params.length.value() as f32 * self.sr) as usize;
                }
            }
            if cap_from.is_some() {
                self.armed = false;
                self.capturing = true;
                self.cap = vec![Vec::with_capacity(self.cap_len); chans];
                self.cap_s = Vec::with_capacity(self.cap_len);
                eprintln!("[mock] capture start={} len={} (pos={:?} tempo={:?} beats={:?})", self.cap_start, self.cap_len, pos, tempo, pos_beats);
            }
        } else if self.capturing {
            cap_from = Some(0);
        }

        // offline bounce: wait for a pending render
        if self.offline {
            let mut p = self.shared.pending.lock().unwrap();
            while *p {
                p = self.shared.cv.wait(p).unwrap();
            }
        }

        // capture input (dry) samples
        if let Some(from) = cap_from {
            let slices = buffer.as_slice();
            for i in from..n {
                if self.cap_s.len() >= self.cap_len {
                    break;
                }
                for (c, ch) in slices.iter().enumerate() {
                    self.cap[c].push(ch[i]);
                }
                self.cap_s.push(strength);
            }
            if self.cap_s.len() >= self.cap_len {
                if self.params.auto_render.value() {
                    self.finish_capture();
                } else {
                    self.capturing = false;
                }
            }
        }

        // playback
        if let Ok(take) = self.params.take.try_lock() {
            if take.id != self.seen_id {
                self.seen_id = take.id;
                self.free_pos = 0;
            }
            if !take.data.is_empty() {
                let len = take.data[0].len();
                let slices = buffer.as_slice();
                if take.start >= 0 && playing && pos.is_some() {
                    let p0 = pos.unwrap();
                    for i in 0..n {
                        let k = p0 + i as i64 - take.start;
                        if k >= 0 && (k as usize) < len {
                            for (c, ch) in slices.iter_mut().enumerate() {
                                let t = take.data[c.min(take.data.len() - 1)][k as usize];
                                ch[i] = mix * t + (1.0 - mix) * ch[i];
                            }
                        }
                    }
                } else if take.start < 0 || !playing {
                    for i in 0..n {
                        if self.free_pos >= len {
                            break;
                        }
                        for (c, ch) in slices.iter_mut().enumerate() {
                            let t = take.data[c.min(take.data.len() - 1)][self.free_pos];
                            ch[i] = mix * t + (1.0 - mix) * ch[i];
                        }
                        self.free_pos += 1;
                    }
                }
            }
        }
        for ch in buffer.as_slice() {
            for x in ch.iter_mut() {
                *x *= gain;
            }
        }
        ProcessStatus::Normal
    }
}

impl ClapPlugin for Mock {
    const CLAP_ID: &'static str = "scratch.redance-mock";
    const CLAP_DESCRIPTION: Option<&'static str> = None;
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[ClapFeature::AudioEffect];
}

impl Vst3Plugin for Mock {
    const VST3_CLASS_ID: [u8; 16] = *b"RedanceMockScrtc";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[Vst3SubCategory::Fx];
}

nice_export_vst3!(Mock);
