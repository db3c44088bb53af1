//! Colours and sizes shared by the widgets. The screenshot test (tests/editor/check.py) looks for
//! the lane colours, so keep them in sync there.

use egui::Color32;

pub const BG: Color32 = Color32::from_rgb(24, 26, 31);
pub const PANEL: Color32 = Color32::from_rgb(33, 36, 43);
pub const LANE_BG: Color32 = Color32::from_rgb(16, 18, 22);
pub const TEXT: Color32 = Color32::from_rgb(220, 222, 228);
pub const DIM: Color32 = Color32::from_rgb(140, 145, 155);
pub const WARN: Color32 = Color32::from_rgb(235, 180, 70);
pub const ERROR: Color32 = Color32::from_rgb(240, 90, 80);
/// Source lane waveform (teal) and take lane waveform (amber).
pub const SOURCE: Color32 = Color32::from_rgb(60, 190, 200);
pub const TAKE: Color32 = Color32::from_rgb(240, 160, 60);
pub const STRENGTH: Color32 = Color32::from_rgb(255, 90, 200);
pub const BAR_LINE: Color32 = Color32::from_rgb(70, 75, 88);
pub const PLAYHEAD: Color32 = Color32::from_rgb(250, 250, 250);
pub const CAPTURE: Color32 = Color32::from_rgb(170, 40, 40);
pub const ACCENT: Color32 = Color32::from_rgb(90, 140, 240);

pub use crate::state::editor_layout::{MIN_SIZE, SCALES};
