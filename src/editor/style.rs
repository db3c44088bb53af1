//! Colours and sizes shared by the widgets. The screenshot test (tests/editor/check.py) looks for
//! the lane colours, so keep them in sync there.

use egui::Color32;

/// Window background.
pub const BG: Color32 = Color32::from_rgb(24, 26, 31);
/// Panel background.
pub const PANEL: Color32 = Color32::from_rgb(33, 36, 43);
/// Lane background.
pub const LANE_BG: Color32 = Color32::from_rgb(16, 18, 22);
/// Text.
pub const TEXT: Color32 = Color32::from_rgb(220, 222, 228);
/// Secondary text.
pub const DIM: Color32 = Color32::from_rgb(140, 145, 155);
/// Warnings.
pub const WARN: Color32 = Color32::from_rgb(235, 180, 70);
/// Errors.
pub const ERROR: Color32 = Color32::from_rgb(240, 90, 80);
/// Source lane waveform (teal) and take lane waveform (amber).
pub const SOURCE: Color32 = Color32::from_rgb(60, 190, 200);
/// The take's colour.
pub const TAKE: Color32 = Color32::from_rgb(240, 160, 60);
/// The strength curve.
pub const STRENGTH: Color32 = Color32::from_rgb(255, 90, 200);
/// Bar lines.
pub const BAR_LINE: Color32 = Color32::from_rgb(70, 75, 88);
/// The playhead.
pub const PLAYHEAD: Color32 = Color32::from_rgb(250, 250, 250);
/// The capture indicator.
pub const CAPTURE: Color32 = Color32::from_rgb(170, 40, 40);
/// Selection and progress.
pub const ACCENT: Color32 = Color32::from_rgb(90, 140, 240);

pub use crate::state::editor_layout::{MIN_SIZE, SCALES};
