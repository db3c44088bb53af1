//! What the buttons do: capture, render, keep and export go through the parameters (so the host
//! sees and automates them), as rising edges released a frame later; cancel goes to the engine.

use super::buttons::Action;
use super::{App, params_panel};
use crate::status::CapturePhase;
use egui::Context;
use nice_plug::prelude::ParamSetter;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

impl App {
    pub(super) fn act(&mut self, action: Action, setter: &ParamSetter) {
        let p = &self.inputs.params;
        match action {
            Action::Capture => match self.inputs.shared.status.capture_phase() {
                CapturePhase::Armed => params_panel::set(setter, &p.capture, false),
                _ if p.capture.value() => {
                    // The latch is still on from the last capture: release now, arm next frame.
                    params_panel::set(setter, &p.capture, false);
                    self.capture_rearm = true;
                }
                _ => params_panel::set(setter, &p.capture, true),
            },
            // The audio thread turns a rising edge of these into a bridge request; they are released
            // on a later frame (`release_triggers`).
            Action::Render => params_panel::set(setter, &p.render, true),
            Action::Keep => params_panel::set(setter, &p.keep, true),
            Action::Export => params_panel::set(setter, &p.export, true),
            Action::Cancel => {
                let owner = self.inputs.shared.engine_owner.load(Ordering::Relaxed);
                if owner != 0 {
                    self.inputs.engine.cancel_owner(owner);
                    self.note = Some((
                        "Render cancelled; where the take is missing, the previous take or the dry track plays.".into(),
                        false,
                    ));
                }
            }
        }
    }

    /// Trigger parameters back to off once a block has seen them (≥ 50 ms later), and the re-arm.
    pub(super) fn release_triggers(&mut self, setter: &ParamSetter, ctx: &Context) {
        let p = self.inputs.params.clone();
        let any_on = p.render.value() || p.keep.value() || p.export.value();
        match (any_on, self.trigger_at) {
            (true, None) => self.trigger_at = Some(Instant::now()),
            (true, Some(at)) if at.elapsed() > Duration::from_millis(50) => {
                for param in [&p.render, &p.keep, &p.export] {
                    if param.value() {
                        params_panel::set(setter, param, false);
                    }
                }
                self.trigger_at = None;
            }
            (false, Some(_)) => self.trigger_at = None,
            _ => {}
        }
        if any_on {
            ctx.request_repaint_after(Duration::from_millis(60));
        }
        if self.capture_rearm && !p.capture.value() {
            self.capture_rearm = false;
            params_panel::set(setter, &p.capture, true);
        }
    }
}
