//! The history of the last takes, newest first: settings, kept or not, which one plays.

use crate::editor::style;
use crate::state::manifest::TakeEntry;
use egui::{RichText, ScrollArea, Ui};

/// "Take 3 · variation · strength 0.50 · seed 42 · 30 steps DDIM".
pub fn describe(t: &TakeEntry) -> String {
    format!(
        "Take {} · {} · strength {:.2} · seed {} · {} steps {}",
        t.id, t.mode, t.strength, t.seed, t.steps, t.sampler
    )
}

/// What a row asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Play this take instead of the current one.
    Audition(u64),
}

/// `can_pick`: whether the bridge is there to switch takes (`Command::SelectTake`).
pub fn show(ui: &mut Ui, history: &[TakeEntry], current: Option<u64>, can_pick: bool) -> Option<Pick> {
    let mut pick = None;
    ui.label(RichText::new("History").strong());
    if history.is_empty() {
        ui.label(RichText::new("No takes yet.").color(style::DIM));
        return None;
    }
    ScrollArea::vertical().id_salt("redance-history").max_height(ui.available_height()).show(ui, |ui| {
        for t in history.iter().rev() {
            ui.horizontal(|ui| {
                let is_current = current == Some(t.id);
                let button = ui.add_enabled(
                    can_pick && !is_current,
                    egui::Button::new(if is_current { "Playing" } else { "Play" }).small(),
                );
                let button = if can_pick {
                    button.on_hover_text("Play this take in place")
                } else {
                    button.on_disabled_hover_text(if is_current {
                        "Playing now"
                    } else {
                        "Available once the plugin is processing audio"
                    })
                };
                if button.clicked() {
                    pick = Some(Pick::Audition(t.id));
                }
                let color = if is_current { style::TAKE } else { style::TEXT };
                ui.label(RichText::new(describe(t)).color(color));
                if t.kept {
                    ui.label(RichText::new("kept").color(style::WARN));
                }
            });
        }
    });
    pick
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::manifest::FileRef;

    #[test]
    fn describes_a_take() {
        let t = TakeEntry {
            id: 3,
            file: FileRef {
                name: "x.wav".into(),
                sha256: "0".repeat(64),
                sample_rate: 48_000,
                channels: 2,
                frames: 10,
            },
            source_sha256: "1".repeat(64),
            start_pos: Some(0),
            mode: "variation".into(),
            seed: 42,
            steps: 30,
            sampler: "DDIM".into(),
            strength: 0.5,
            kept: false,
        };
        assert_eq!(describe(&t), "Take 3 · variation · strength 0.50 · seed 42 · 30 steps DDIM");
    }
}
