//! A waveform lane (source or take): min/max columns from an [`Overview`], or its spectrogram;
//! bar lines of the captured region, the playhead, and over the source the strength curve recorded
//! along it.

use crate::editor::overview::Overview;
use crate::editor::style;
use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, StrokeKind, TextureId, Ui, pos2, vec2};

/// What a lane draws; everything optional but the name.
pub struct LaneView<'a> {
    /// SOURCE or TAKE.
    pub name: &'a str,
    /// The lane's colour.
    pub color: Color32,
    /// The waveform overview, once loaded.
    pub overview: Option<&'a Overview>,
    /// Drawn instead of the waveform when set.
    pub spectrogram: Option<TextureId>,
    /// Playhead as a fraction of the region.
    pub playhead: Option<f32>,
    /// Bar lines as fractions of the region.
    pub bars: &'a [f32],
    /// Strength evenly spaced over the region, 0–1.
    pub strength: Option<&'a [f32]>,
    /// Shown when there is no overview.
    pub placeholder: &'a str,
    /// Right-aligned note in the header (duration, gain…).
    pub note: String,
}

/// Bar lines of a region `frames` long at `rate` Hz starting on a bar, as fractions (first bar line
/// at 0 left out). Without a tempo: one line a second.
pub fn bar_fractions(frames: usize, rate: u32, tempo_bpm: f32, bar_beats: f32) -> Vec<f32> {
    if frames == 0 || rate == 0 {
        return Vec::new();
    }
    let bar_s = if tempo_bpm > 0.0 && bar_beats > 0.0 { bar_beats as f64 * 60.0 / tempo_bpm as f64 } else { 1.0 };
    let bar_frames = bar_s * rate as f64;
    let count = (frames as f64 / bar_frames).ceil() as usize;
    (1..count.min(512)).map(|k| (k as f64 * bar_frames / frames as f64) as f32).filter(|f| *f < 1.0).collect()
}

/// The playhead within a region starting at `start` (timeline samples) `frames` long; with `looping`
/// it wraps. `None` outside the region or without a position.
pub fn playhead_fraction(pos: Option<i64>, start: Option<i64>, frames: usize, looping: bool) -> Option<f32> {
    let (pos, start) = (pos?, start?);
    if frames == 0 {
        return None;
    }
    let mut rel = pos - start;
    if looping {
        rel = rel.rem_euclid(frames as i64);
    }
    (0..frames as i64).contains(&rel).then(|| rel as f32 / frames as f32)
}

/// Draws the lane in `height` points across the available width; returns its rect.
pub fn show(ui: &mut Ui, view: &LaneView, height: f32) -> Rect {
    let (rect, _) = ui.allocate_exact_size(vec2(ui.available_width(), height), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, style::LANE_BG);
    let header = 16.0;
    let wave = Rect::from_min_max(pos2(rect.left(), rect.top() + header), rect.max);
    painter.text(rect.left_top() + vec2(6.0, 2.0), Align2::LEFT_TOP, view.name, FontId::proportional(12.0), view.color);
    painter.text(
        rect.right_top() + vec2(-6.0, 2.0),
        Align2::RIGHT_TOP,
        &view.note,
        FontId::proportional(12.0),
        style::DIM,
    );
    let x_at = |f: f32| wave.left() + f * wave.width();
    for &f in view.bars {
        painter
            .line_segment([pos2(x_at(f), wave.top()), pos2(x_at(f), wave.bottom())], Stroke::new(1.0, style::BAR_LINE));
    }
    match (view.spectrogram, view.overview) {
        (Some(texture), Some(_)) => {
            let uv = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));
            painter.image(texture, wave.shrink(1.0), uv, Color32::WHITE);
        }
        (None, Some(overview)) if overview.frames > 0 => {
            draw_wave(&painter, wave, overview, view.color, ui.pixels_per_point())
        }
        _ => {
            painter.text(
                wave.center(),
                Align2::CENTER_CENTER,
                view.placeholder,
                FontId::proportional(14.0),
                style::DIM,
            );
        }
    }
    if let Some(points) = view.strength.filter(|p| !p.is_empty()) {
        let y_at = |s: f32| wave.bottom() - 2.0 - s.clamp(0.0, 1.0) * (wave.height() - 4.0);
        let n = points.len();
        let line: Vec<Pos2> = if n == 1 {
            vec![pos2(wave.left(), y_at(points[0])), pos2(wave.right(), y_at(points[0]))]
        } else {
            points.iter().enumerate().map(|(i, &s)| pos2(x_at(i as f32 / (n - 1) as f32), y_at(s))).collect()
        };
        painter.add(Shape::line(line, Stroke::new(2.0, style::STRENGTH)));
        painter.text(
            wave.left_bottom() + vec2(6.0, -4.0),
            Align2::LEFT_BOTTOM,
            "strength",
            FontId::proportional(11.0),
            style::STRENGTH,
        );
    }
    if let Some(f) = view.playhead {
        painter
            .line_segment([pos2(x_at(f), wave.top()), pos2(x_at(f), wave.bottom())], Stroke::new(1.5, style::PLAYHEAD));
    }
    painter.rect_stroke(rect, 4.0, Stroke::new(1.0, style::BAR_LINE), StrokeKind::Inside);
    rect
}

fn draw_wave(painter: &egui::Painter, rect: Rect, overview: &Overview, color: Color32, ppp: f32) {
    let columns = (rect.width() * ppp).max(1.0) as usize;
    let mid = rect.center().y;
    let half = rect.height() / 2.0 - 2.0;
    let stroke = Stroke::new(1.0 / ppp, color);
    for (c, (lo, hi)) in overview.columns(columns).into_iter().enumerate() {
        let x = rect.left() + (c as f32 + 0.5) / ppp;
        let (y0, y1) = (mid - hi.clamp(-1.0, 1.0) * half, mid - lo.clamp(-1.0, 1.0) * half);
        painter.line_segment([pos2(x, y0), pos2(x, y1.max(y0 + 1.0 / ppp))], stroke);
    }
    painter.line_segment(
        [pos2(rect.left(), mid), pos2(rect.right(), mid)],
        Stroke::new(1.0 / ppp, color.gamma_multiply(0.4)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_bars_at_120_bpm() {
        // 4 bars of 4/4 at 120 BPM = 8 s.
        let f = bar_fractions(8 * 48_000, 48_000, 120.0, 4.0);
        assert_eq!(f, vec![0.25, 0.5, 0.75]);
        // Without a tempo: seconds.
        assert_eq!(bar_fractions(2 * 1000, 1000, 0.0, 4.0), vec![0.5]);
        assert!(bar_fractions(0, 48_000, 120.0, 4.0).is_empty());
    }

    #[test]
    fn playhead_inside_and_looping() {
        assert_eq!(playhead_fraction(Some(150), Some(100), 100, false), Some(0.5));
        assert_eq!(playhead_fraction(Some(250), Some(100), 100, false), None);
        assert_eq!(playhead_fraction(Some(250), Some(100), 100, true), Some(0.5));
        assert_eq!(playhead_fraction(None, Some(100), 100, false), None);
        assert_eq!(playhead_fraction(Some(50), Some(100), 100, false), None);
    }
}
