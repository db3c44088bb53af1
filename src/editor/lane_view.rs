//! A lane (source or take) built from what the view holds: the file's overview or spectrogram, the
//! playhead, bar lines, strength curve and the words shown while there is nothing to draw.

use super::loader::{LaneData, LaneKind, Loader, Request};
use super::{App, lane, overview, style};
use crate::state::manifest::TakesManifest;
use crate::status::CapturePhase;
use egui::{RichText, TextureHandle, Ui};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A lane's file and what was computed from it.
#[derive(Default)]
pub(super) struct LaneSlot {
    /// The content key (SHA-256) requested and the data for it once here.
    pub(super) key: Option<String>,
    pub(super) data: Option<Arc<LaneData>>,
    pub(super) texture: Option<TextureHandle>,
    pub(super) error: Option<String>,
    pub(super) show_spectrogram: bool,
}

impl LaneSlot {
    /// Asks for `key` unless it is the one already here or on its way.
    pub(super) fn want(&mut self, key: Option<&str>, request: impl FnOnce() -> Request, loader: &Loader) {
        if self.key.as_deref() == key {
            return;
        }
        *self = LaneSlot { show_spectrogram: self.show_spectrogram, ..LaneSlot::default() };
        if let Some(key) = key {
            self.key = Some(key.to_owned());
            loader.request(request());
        }
    }
}

impl App {
    pub(super) fn lane(&mut self, ui: &mut Ui, kind: LaneKind, height: f32) {
        let s = &self.inputs.shared.status;
        let manifest = self.manifest.as_ref();
        let slot = if kind == LaneKind::Source { &self.source } else { &self.take };
        let overview = slot.data.as_ref().map(|d| &d.overview);
        let source_entry = manifest.and_then(|m| m.source.as_ref());
        let start = match kind {
            LaneKind::Source => source_entry.and_then(|e| e.start_pos),
            LaneKind::Take => manifest.and_then(TakesManifest::current_take).and_then(|t| t.start_pos),
        };
        let pos = s.transport_has_pos.load(Ordering::Relaxed).then(|| s.transport_pos_samples.load(Ordering::Relaxed));
        let pos = pos.filter(|_| s.transport_playing.load(Ordering::Relaxed));
        let frames = overview.map_or(0, |o| o.frames);
        let playhead = lane::playhead_fraction(pos, start, frames, self.inputs.params.looping.value());
        let bars = overview.map_or_else(Vec::new, |o| {
            lane::bar_fractions(
                o.frames,
                o.sample_rate,
                s.transport_tempo_bpm.load(Ordering::Relaxed),
                s.transport_bar_beats.load(Ordering::Relaxed),
            )
        });
        let capture = s.capture_phase();
        let placeholder = match (kind, capture, &slot.error) {
            (_, _, Some(e)) => format!("Could not load: {e}"),
            (LaneKind::Source, CapturePhase::Armed, _) if s.capture_waits_for_play.load(Ordering::Relaxed) => {
                "Armed: capture starts when the transport plays…".into()
            }
            (LaneKind::Source, CapturePhase::Armed, _) => "Armed: capture starts at the next bar line…".into(),
            (LaneKind::Source, CapturePhase::Capturing, _) => "Capturing…".into(),
            (LaneKind::Source, _, _) if slot.key.is_some() => "Loading…".into(),
            (LaneKind::Source, _, _) => "Nothing captured yet: press Capture, then play the track.".into(),
            (LaneKind::Take, _, _) if slot.key.is_some() => "Loading…".into(),
            (LaneKind::Take, _, _) => "No take yet: it appears here while it renders.".into(),
        };
        let gain = s.audition_gain();
        let note = match (kind, overview) {
            (_, None) => String::new(),
            (LaneKind::Source, Some(o)) => format!("{:.1} s · {} Hz", o.duration_s(), o.sample_rate),
            (LaneKind::Take, Some(o)) => {
                let id = manifest.and_then(|m| m.current).map_or(String::new(), |id| format!("take {id} · "));
                format!("{id}{:.1} s · B gain {:+.1} dB", o.duration_s(), overview::gain_db(gain))
            }
        };
        let strength = match kind {
            LaneKind::Source => source_entry.map(|e| e.strength.as_slice()),
            LaneKind::Take => None,
        };
        let view = lane::LaneView {
            name: if kind == LaneKind::Source { "SOURCE" } else { "TAKE" },
            color: if kind == LaneKind::Source { style::SOURCE } else { style::TAKE },
            overview,
            spectrogram: slot.show_spectrogram.then(|| slot.texture.as_ref().map(TextureHandle::id)).flatten(),
            playhead,
            bars: &bars,
            strength,
            placeholder: &placeholder,
            note,
        };
        let rect = lane::show(ui, &view, height);
        let toggle_pos = rect.right_top() + egui::vec2(-150.0, 0.0);
        let slot = if kind == LaneKind::Source { &mut self.source } else { &mut self.take };
        let label = if slot.show_spectrogram { "Waveform" } else { "Spectrogram" };
        // A child Ui over the lane's header: placed without moving the parent's cursor.
        let spot = egui::Rect::from_min_size(toggle_pos + egui::vec2(-100.0, 1.0), egui::vec2(92.0, 16.0));
        let mut child = ui.new_child(egui::UiBuilder::new().max_rect(spot));
        let button = child.add(egui::Button::new(RichText::new(label).small()));
        if button.clicked() {
            slot.show_spectrogram = !slot.show_spectrogram;
        }
        self.record(if kind == LaneKind::Source { "source_lane" } else { "take_lane" }, rect);
    }
}
