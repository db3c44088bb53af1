//! The editor's window size and scale, saved with the project so it reopens as the user left it.
//! Plain data: the editor writes it when the window is resized or rescaled, `create` reads it.

use serde::{Deserialize, Serialize};

/// Default and minimum window size (logical pixels, before the scale).
pub const DEFAULT_SIZE: (f32, f32) = (1000.0, 780.0);
/// The smallest window, in logical pixels.
pub const MIN_SIZE: (f32, f32) = (800.0, 640.0);
/// The scales the editor offers (on top of the system's).
pub const SCALES: [f32; 6] = [0.75, 1.0, 1.25, 1.5, 1.75, 2.0];

/// The editor's window as the project saved it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EditorLayout {
    /// Logical size of the editor's content, before the scale.
    pub width: f32,
    /// Logical height.
    pub height: f32,
    /// Zoom factor.
    pub scale: f32,
}

impl Default for EditorLayout {
    fn default() -> Self {
        Self { width: DEFAULT_SIZE.0, height: DEFAULT_SIZE.1, scale: 1.0 }
    }
}

impl EditorLayout {
    /// Within what the editor can show: a saved state from a bigger screen or a damaged value
    /// must not open a window too small to use or too large to reach.
    pub fn sanitized(self) -> Self {
        let d = Self::default();
        let fit = |v: f32, lo: f32, hi: f32, default: f32| if v.is_finite() { v.clamp(lo, hi) } else { default };
        Self {
            width: fit(self.width, MIN_SIZE.0, 4.0 * DEFAULT_SIZE.0, d.width),
            height: fit(self.height, MIN_SIZE.1, 4.0 * DEFAULT_SIZE.1, d.height),
            scale: fit(self.scale, SCALES[0], SCALES[SCALES.len() - 1], d.scale),
        }
    }

    /// The layout for a window of `window` logical pixels drawn at `scale` (the window includes it).
    pub fn from_window(window: (f32, f32), scale: f32) -> Self {
        Self { width: window.0 / scale, height: window.1 / scale, scale }.sanitized()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_or_extreme_values_are_brought_back_in_range() {
        let l = EditorLayout { width: f32::NAN, height: 1e9, scale: 0.0 }.sanitized();
        assert_eq!(l, EditorLayout { width: DEFAULT_SIZE.0, height: 4.0 * DEFAULT_SIZE.1, scale: SCALES[0] });
    }

    #[test]
    fn a_scaled_window_is_saved_unscaled() {
        let l = EditorLayout::from_window((2400.0, 1600.0), 2.0);
        assert_eq!(l, EditorLayout { width: 1200.0, height: 800.0, scale: 2.0 });
    }

    #[test]
    fn missing_fields_take_their_defaults() {
        let l: EditorLayout = serde_json::from_str(r#"{"scale": 1.5}"#).unwrap();
        assert_eq!(l, EditorLayout { scale: 1.5, ..Default::default() });
    }
}
