//! A/B audition: the normal mix, the source alone (A) or the take alone (B), the take
//! loudness-matched to the source so the musician judges the variation and not the level. The
//! editor stores the choice and the gain in [`crate::status::Status`]; the audio thread applies them.

use crate::editor::overview::{Overview, gain_db, loudness_match_gain};
use crate::status::{Audition, Status};
use egui::Ui;
use std::sync::atomic::Ordering;

/// The gain for B, stored for the audio thread when both overviews are known.
pub fn update_gain(status: &Status, source: Option<&Overview>, take: Option<&Overview>) -> Option<f32> {
    let gain = loudness_match_gain(source?, take?);
    status.audition_take_gain.store(gain, Ordering::Relaxed);
    Some(gain)
}

/// "B · take (−2.3 dB to match)".
pub fn take_label(gain: Option<f32>) -> String {
    match gain {
        Some(g) if (gain_db(g)).abs() >= 0.05 => format!("B · take ({:+.1} dB to match)", gain_db(g)),
        Some(_) => "B · take (same loudness)".into(),
        None => "B · take".into(),
    }
}

/// The A/B row: source, mix or take, with the take's loudness match.
pub fn show(ui: &mut Ui, status: &Status, gain: Option<f32>, has_take: bool) {
    let now = status.audition();
    ui.horizontal(|ui| {
        ui.label("Listen");
        let options = [
            (Audition::Normal, "Mix".to_string(), "The take blended in by the Mix parameter"),
            (Audition::Source, "A · source".to_string(), "The captured track alone (dry)"),
            (Audition::Take, take_label(gain), "The take alone, as loud as the source"),
        ];
        for (a, label, tip) in options {
            let enabled = has_take || a == Audition::Normal;
            if ui.add_enabled(enabled, egui::Button::selectable(now == a, label)).on_hover_text(tip).clicked() {
                status.set_audition(a);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_gain() {
        assert_eq!(take_label(None), "B · take");
        assert_eq!(take_label(Some(0.5)), "B · take (-6.0 dB to match)");
        assert_eq!(take_label(Some(1.0)), "B · take (same loudness)");
        let status = Status::default();
        let loud = Overview::from_channels(&[vec![0.5; 100]], 48_000, 10);
        let quiet = Overview::from_channels(&[vec![0.25; 100]], 48_000, 10);
        assert_eq!(update_gain(&status, Some(&loud), None), None);
        assert_eq!(update_gain(&status, Some(&loud), Some(&quiet)), Some(2.0));
        assert_eq!(status.audition_gain(), 2.0);
        status.set_audition(Audition::Take);
        assert_eq!(status.audition(), Audition::Take);
    }
}
