//! Capture / Render / Cancel / Keep / Export: which are enabled in each phase, their labels, and
//! the row that draws them. The row only returns what was pressed; `mod.rs` carries it out.

use crate::editor::style;
use crate::status::CapturePhase;
use egui::{Button, RichText, Ui, vec2};

/// What the buttons depend on, read once a frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseView {
    /// The plugin is active (the bridge exists and blocks are processed).
    pub active: bool,
    /// Where the capture stands.
    pub capture: CapturePhase,
    /// Fraction of the capture done while capturing.
    pub capture_fraction: f32,
    /// A render is queued or running.
    pub rendering: bool,
    /// A source to render exists (captured, or restored with the project).
    pub has_source: bool,
    /// A current take exists.
    pub has_take: bool,
    /// The current take is already kept.
    pub take_kept: bool,
}

/// Which buttons can be pressed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Enabled {
    /// Capture (or cancel the armed capture).
    pub capture: bool,
    /// Render the source again.
    pub render: bool,
    /// Cancel the render.
    pub cancel: bool,
    /// Keep the take.
    pub keep: bool,
    /// Export the take.
    pub export: bool,
}

/// What a button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Arm (when idle) or disarm (when armed).
    Capture,
    /// Render the current source.
    Render,
    /// Cancel this instance's render.
    Cancel,
    /// Keep the current take.
    Keep,
    /// Export the current take.
    Export,
}

impl PhaseView {
    /// Which buttons can be pressed in this state.
    pub fn enabled(&self) -> Enabled {
        if !self.active {
            return Enabled::default();
        }
        let capturing = self.capture == CapturePhase::Capturing;
        Enabled {
            capture: !capturing,
            render: self.has_source && !capturing,
            cancel: self.rendering,
            keep: self.has_take && !self.rendering && !self.take_kept,
            export: self.has_take && !self.rendering,
        }
    }

    /// The Capture button's words.
    pub fn capture_label(&self) -> String {
        match self.capture {
            CapturePhase::Idle => "Capture".into(),
            CapturePhase::Armed => "Armed (click to disarm)".into(),
            CapturePhase::Capturing => format!("Capturing {:.0} %", self.capture_fraction * 100.0),
        }
    }

    /// The Render button's words.
    pub fn render_label(&self) -> &'static str {
        if self.rendering { "Render again" } else { "Render" }
    }

    /// Why a button is disabled, for its hover text.
    pub fn why_disabled(&self, action: Action) -> &'static str {
        if !self.active {
            return "The plugin is not processing audio yet (start playback in the host).";
        }
        match action {
            Action::Capture => "A capture is running.",
            Action::Render if !self.has_source => "Nothing captured yet: press Capture first.",
            Action::Render => "Wait for the capture to finish.",
            Action::Cancel => "No render is running.",
            Action::Keep if self.take_kept => "This take is already kept.",
            Action::Keep | Action::Export if self.rendering => "Wait for the render to finish.",
            Action::Keep | Action::Export => "No take yet: capture and render first.",
        }
    }
}

/// Draws the row; returns the button pressed, if any.
pub fn show(ui: &mut Ui, view: &PhaseView) -> Option<Action> {
    let e = view.enabled();
    let mut pressed = None;
    let size = vec2(0.0, 28.0);
    ui.horizontal(|ui| {
        let capture_fill = match view.capture {
            CapturePhase::Idle => None,
            _ => Some(style::CAPTURE),
        };
        let rows = [
            (Action::Capture, view.capture_label(), e.capture, capture_fill, "Arm a capture of the next bars"),
            (Action::Render, view.render_label().into(), e.render, None, "Render a variation of the source"),
            (Action::Cancel, "Cancel".into(), e.cancel, None, "Stop the running render"),
            (Action::Keep, "Keep".into(), e.keep, None, "Keep this take with the project"),
            (Action::Export, "Export".into(), e.export, None, "Write this take to a WAV file"),
        ];
        for (action, label, enabled, fill, tip) in rows {
            let mut button = Button::new(RichText::new(label).size(15.0)).min_size(size);
            if let Some(fill) = fill {
                button = button.fill(fill);
            }
            let response = ui.add_enabled(enabled, button);
            let response = if enabled {
                response.on_hover_text(tip)
            } else {
                response.on_disabled_hover_text(view.why_disabled(action))
            };
            if response.clicked() {
                pressed = Some(action);
            }
        }
    });
    pressed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle() -> PhaseView {
        PhaseView {
            active: true,
            capture: CapturePhase::Idle,
            capture_fraction: 0.0,
            rendering: false,
            has_source: false,
            has_take: false,
            take_kept: false,
        }
    }

    #[test]
    fn fresh_instance_only_captures() {
        let e = idle().enabled();
        assert_eq!(e, Enabled { capture: true, ..Enabled::default() });
        let inactive = PhaseView { active: false, ..idle() };
        assert_eq!(inactive.enabled(), Enabled::default());
        assert!(inactive.why_disabled(Action::Capture).contains("not processing"));
    }

    #[test]
    fn capturing_blocks_capture_and_render() {
        let v = PhaseView { capture: CapturePhase::Capturing, capture_fraction: 0.42, has_source: true, ..idle() };
        let e = v.enabled();
        assert!(!e.capture && !e.render);
        assert_eq!(v.capture_label(), "Capturing 42 %");
        let armed = PhaseView { capture: CapturePhase::Armed, ..idle() };
        assert!(armed.enabled().capture, "clicking while armed disarms");
    }

    #[test]
    fn rendering_allows_cancel_not_keep() {
        let v = PhaseView { rendering: true, has_source: true, has_take: true, ..idle() };
        let e = v.enabled();
        assert!(e.cancel && e.render && !e.keep && !e.export);
        assert_eq!(v.render_label(), "Render again");
        assert_eq!(v.why_disabled(Action::Keep), "Wait for the render to finish.");
    }

    #[test]
    fn finished_take_can_be_kept_once_and_exported() {
        let v = PhaseView { has_source: true, has_take: true, ..idle() };
        let e = v.enabled();
        assert!(e.keep && e.export && e.render && !e.cancel);
        let kept = PhaseView { take_kept: true, ..v };
        assert!(!kept.enabled().keep && kept.enabled().export);
        assert_eq!(kept.why_disabled(Action::Keep), "This take is already kept.");
    }
}
