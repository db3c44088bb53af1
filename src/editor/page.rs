//! The page: nice-plug-egui's callbacks (build, one frame, close, resize, scale, track name) and
//! the layout from the header down to the status line.

use super::buttons::PhaseView;
use super::lane_view::LaneSlot;
use super::loader::{LaneKind, Loader};
use super::{App, ab, buttons, demo, history, models, params_panel, progress, render_on, status_line, style};
use crate::state::editor_layout::EditorLayout;
use crate::state::render_on::RenderOnField;
use crate::status::CapturePhase;
use egui::{Context, RichText, Ui};
use nice_plug::prelude::{ParamSetter, TrackInfo};
use nice_plug_egui::{NiceEguiApp, resizable_window::ResizableWindow};
use redance_engine::ModelSource;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl App {
    fn header(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            let title = ui.label(RichText::new("Redance").size(22.0).strong().color(style::TEXT));
            self.record("title", title.rect);
            ui.label(RichText::new("Dance Diffusion variations, in place").color(style::DIM));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let zoom = ui.ctx().zoom_factor();
                egui::ComboBox::from_id_salt("redance-scale")
                    .width(70.0)
                    .selected_text(format!("{:.0} %", zoom * 100.0))
                    .show_ui(ui, |ui| {
                        for s in style::SCALES {
                            if ui.selectable_label((zoom - s).abs() < 1e-3, format!("{:.0} %", s * 100.0)).clicked() {
                                ui.ctx().set_zoom_factor(s);
                            }
                        }
                    });
                ui.label("Scale");
            });
        });
    }
}

impl NiceEguiApp for App {
    fn build(
        &mut self,
        egui_ctx: Context,
        gui: nice_plug::context::gui::GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        let mut visuals = egui::Visuals::dark();
        visuals.panel_fill = style::BG;
        visuals.window_fill = style::PANEL;
        visuals.selection.bg_fill = style::ACCENT;
        egui_ctx.set_visuals(visuals);
        let wake = egui_ctx.clone();
        self.loader = Loader::spawn(self.inputs.data_dir.clone(), move || wake.request_repaint()).ok();
        self.ctx = Some(egui_ctx);
        self.gui = Some(gui);
        self.source = LaneSlot::default();
        self.take = LaneSlot::default();
        self.manifest_key = None;
        if self.demo {
            self.manifest = Some(demo::manifest());
            demo::fill_status(&self.inputs.shared);
        }
        self.scan_models();
        Ok(())
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut nice_plug_egui::Frame) {
        let Some(gui) = self.gui.clone() else { return };
        let setter = gui.param_setter();
        let ctx = ui.ctx().clone();
        self.frames += 1;
        self.refresh(&ctx);
        self.release_triggers(&setter, &ctx);
        let phase = self.phase();
        let (min_w, min_h) = style::MIN_SIZE;
        ResizableWindow::new("redance-editor").min_size(egui::vec2(min_w, min_h)).show(ui, |ui| {
            egui::Frame::new().inner_margin(egui::Margin::same(10)).show(ui, |ui| self.body(ui, &ctx, &setter, &phase));
        });
        self.dump_layout(&ctx);
        // The status atomics change without any event: look again a few times a second.
        ctx.request_repaint_after(Duration::from_millis(if phase.capture == CapturePhase::Idle { 250 } else { 50 }));
    }

    fn editor_closed(&mut self) {
        self.closed();
    }

    // Size and scale go into the project state (the host saves it with the project).
    fn resized(&mut self, size: nice_plug_egui::baseview::WindowSize) {
        let window = (size.logical.width as f32, size.logical.height as f32);
        *self.inputs.params.editor_layout.write() = EditorLayout::from_window(window, self.zoom);
    }

    fn zoom_factor_changed(&mut self, zoom: f32) {
        self.zoom = zoom;
        self.inputs.params.editor_layout.write().scale = zoom;
    }

    fn track_info_changed(&mut self, info: TrackInfo) {
        *self.inputs.shared.track_name.lock() = Some(info.name().to_owned()).filter(|n| !n.is_empty());
    }
}

impl App {
    /// Everything inside the window's margin.
    fn body(&mut self, ui: &mut Ui, ctx: &Context, setter: &ParamSetter, phase: &PhaseView) {
        let phase = *phase;
        {
            self.header(ui);
            ui.add_space(4.0);
            let row = ui.scope(|ui| buttons::show(ui, &phase));
            self.record("buttons", row.response.rect);
            if let Some(action) = row.inner {
                self.act(action, setter);
            }
            ui.add_space(4.0);
            let progress_rect = if phase.rendering {
                let elapsed = self.render_started.map_or(0.0, |t| t.elapsed().as_secs_f64());
                let p = progress::RenderProgress::read(&self.inputs.shared.status, elapsed);
                ctx.request_repaint_after(Duration::from_millis(100));
                ui.add(egui::ProgressBar::new(p.fraction).text(p.text()).fill(style::ACCENT)).rect
            } else {
                let fraction = if self.manifest.as_ref().is_some_and(|m| m.current.is_some()) { 1.0 } else { 0.0 };
                let text = if fraction > 0.0 { "Take ready" } else { "No render yet" };
                ui.add(egui::ProgressBar::new(fraction).text(text)).rect
            };
            self.record("progress", progress_rect);
            ui.add_space(6.0);
            let lane_h = ((ui.available_height() - 470.0) / 2.0).clamp(80.0, 400.0);
            self.lane(ui, LaneKind::Source, lane_h);
            ui.add_space(4.0);
            self.lane(ui, LaneKind::Take, lane_h);
            ui.add_space(4.0);
            let has_take = phase.has_take;
            let gain = self
                .source
                .data
                .as_ref()
                .zip(self.take.data.as_ref())
                .map(|_| self.inputs.shared.status.audition_gain());
            let ab_row = ui.scope(|ui| ab::show(ui, &self.inputs.shared.status, gain, has_take));
            self.record("ab", ab_row.response.rect);
            ui.separator();
            let bottom = ui.columns(2, |cols| {
                let params_rect = cols[0].scope(|ui| params_panel::show(ui, &self.inputs.params, setter)).response.rect;
                let right = cols[1].scope(|ui| {
                    let current = self.manifest.as_ref().and_then(|m| m.current);
                    let history = self.manifest.as_ref().map_or(&[][..], |m| m.history.as_slice());
                    let can_pick = self.inputs.shared.commands.lock().is_some();
                    if let Some(history::Pick::Audition(id)) = history::show(ui, history, current, can_pick) {
                        // The bridge loads the file and streams it: nothing here waits.
                        if let Some(tx) = self.inputs.shared.commands.lock().as_ref() {
                            let _ = tx.send(crate::boundary::BridgeCommand::SelectTake(id));
                        }
                    }
                    ui.add_space(8.0);
                    let pick = models::show(ui, &self.models, self.model_folder.as_deref());
                    let imported = self.import.show(ui, &self.inputs.data_dir);
                    ui.add_space(4.0);
                    self.render_on_row(ui);
                    pick.or(imported.map(|_| models::Pick::Rescan))
                });
                (params_rect, right.response.rect, right.inner)
            });
            self.record("params", bottom.0);
            self.record("history_models", bottom.1);
            match bottom.2 {
                Some(models::Pick::BuiltIn) => {
                    self.model_folder = None;
                    self.inputs.engine.set_model(ModelSource::Embedded);
                }
                Some(models::Pick::Folder(dir)) => {
                    self.model_folder = Some(dir.clone());
                    self.inputs.engine.set_model(ModelSource::Path(dir));
                }
                Some(models::Pick::Rescan) => self.scan_models(),
                Some(models::Pick::OpenFolder) => {
                    if let Err(e) = models::open_folder(&models::user_dir(&self.inputs.data_dir)) {
                        self.note = Some((e, true));
                    }
                }
                None => {}
            }
            ui.separator();
            let status_rect = ui
                .scope(|ui| {
                    let s = &self.inputs.shared.status;
                    let mut parts = status_line::parts(
                        &self.engine_status,
                        &s.message(),
                        s.message_is_error.load(Ordering::Relaxed),
                    );
                    if s.bounce_may_miss() {
                        parts.push(status_line::bounce_warning());
                    }
                    if let Some((note, is_error)) = &self.note {
                        let kind = if *is_error { status_line::Kind::Error } else { status_line::Kind::Ok };
                        parts.push(status_line::Part { text: note.clone(), kind });
                    }
                    status_line::show(ui, &parts);
                })
                .response
                .rect;
            self.record("status", status_rect);
        }
    }

    /// The "Render on" row; the draft follows the project's setting whenever that changes (a state
    /// load, another editor of the instance), and Apply hands it to the bridge.
    fn render_on_row(&mut self, ui: &mut Ui) {
        let shared = &self.inputs.shared;
        let count = shared.render_on_requested.load(Ordering::Acquire);
        if self.render_on_seen != Some(count) {
            self.render_on = shared.render_on.lock().clone();
            self.render_on_seen = Some(count);
        }
        // The words are about the applied setting, not the draft being typed.
        let state = render_on::state(&shared.render_on.lock().clone(), &self.engine_status);
        if render_on::show(ui, &mut self.render_on, &state) {
            RenderOnField::apply(shared, self.render_on.clone());
        }
    }

    fn closed(&mut self) {
        // The loader thread ends once it sees the channel closed; no join, so closing never waits.
        self.loader = None;
        self.ctx = None;
        self.gui = None;
        self.source = LaneSlot::default();
        self.take = LaneSlot::default();
    }
}
