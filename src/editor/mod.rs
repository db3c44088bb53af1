//! The editor (nice-plug-egui): what Redance captured, what it renders and what came out, with a
//! control for every parameter. It reads [`Shared`] (status atomics, the message, the saved-takes
//! manifest) and the parameters; parameter changes go through the host (`ParamSetter`), so
//! automation and undo see them. Nothing here blocks the UI thread: files, overviews,
//! spectrograms and model scans are done on the [`loader`] thread, model switches and cancels are
//! queued on the engine.
//!
//! One widget a file: [`buttons`], [`progress`], [`lane`] (with [`overview`] and [`spectrogram`]),
//! [`params_panel`], [`ab`], [`history`], [`models`], [`status_line`]; [`demo`] fills it for the
//! screenshot test (`REDANCE_EDITOR_DEMO=1`).

pub mod ab;
pub mod buttons;
pub mod demo;
pub mod history;
pub mod lane;
pub mod loader;
pub mod models;
pub mod overview;
pub mod params_panel;
pub mod progress;
pub mod spectrogram;
pub mod status_line;
pub mod style;

use crate::params::RedanceParams;
use crate::shared::Shared;
use crate::state::editor_layout::EditorLayout;
use crate::state::manifest::TakesManifest;
use crate::status::CapturePhase;
use buttons::{Action, PhaseView};
use egui::{Context, RichText, TextureHandle, TextureOptions, Ui};
use loader::{LaneData, LaneKind, Loader, Reply, Request};
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::{ParamSetter, ResizeHint, TrackInfo};
use nice_plug_egui::{
    EguiEditorState, EguiNiceSettings, NiceEguiApp, RepaintNotifier, resizable_window::ResizableWindow,
};
use redance_engine::worker::EngineStatus;
use redance_engine::{Engine, ModelSource};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub type RedanceEditor = nice_plug_egui::EguiEditor<App>;

/// What the plugin hands the editor.
pub struct EditorInputs {
    pub params: Arc<RedanceParams>,
    pub shared: Arc<Shared>,
    /// The engine the bridge renders on (its status, model switches, cancel).
    pub engine: &'static Engine,
    /// The bridge's data folder (stored takes, the user's model folder).
    pub data_dir: PathBuf,
}

pub fn create(inputs: EditorInputs) -> Option<RedanceEditor> {
    // Size and scale as the project saved them (tests set the scale with REDANCE_EDITOR_ZOOM).
    let saved = inputs.params.editor_layout.read().sanitized();
    let zoom = std::env::var("REDANCE_EDITOR_ZOOM")
        .ok()
        .and_then(|z| z.parse::<f32>().ok())
        .filter(|z| (0.5..=3.0).contains(z))
        .unwrap_or(saved.scale);
    let state = EguiEditorState::from_size(LogicalSize::new(saved.width, saved.height), zoom);
    let settings = EguiNiceSettings::new().with_tile("Redance").with_resize_hint(
        ResizeHint::resizable().with_min_logical_size(LogicalSize::new(style::MIN_SIZE.0, style::MIN_SIZE.1)),
    );
    let mut app = App::new(inputs);
    app.zoom = zoom;
    nice_plug_egui::create_egui_editor(state, RepaintNotifier::new(), settings, app)
}

/// A lane's file and what was computed from it.
#[derive(Default)]
struct LaneSlot {
    /// The content key (SHA-256) requested and the data for it once here.
    key: Option<String>,
    data: Option<Arc<LaneData>>,
    texture: Option<TextureHandle>,
    error: Option<String>,
    show_spectrogram: bool,
}

impl LaneSlot {
    /// Asks for `key` unless it is the one already here or on its way.
    fn want(&mut self, key: Option<&str>, request: impl FnOnce() -> Request, loader: &Loader) {
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

pub struct App {
    inputs: EditorInputs,
    gui: Option<nice_plug::context::gui::GuiContext>,
    ctx: Option<Context>,
    loader: Option<Loader>,
    /// The saved-takes manifest as last parsed, and the status counters it was parsed at.
    manifest: Option<TakesManifest>,
    manifest_key: Option<(u64, u64, u64)>,
    source: LaneSlot,
    take: LaneSlot,
    /// When the editor saw the running render start (for the time-left estimate).
    render_started: Option<Instant>,
    engine_status: EngineStatus,
    engine_status_at: Option<Instant>,
    models: Vec<ModelEntry>,
    /// The model this editor switched to (`None`: built-in); the engine does not report its source.
    model_folder: Option<PathBuf>,
    /// Capture param to set true next frame (after releasing a stale latch).
    capture_rearm: bool,
    /// When a trigger parameter (Render / Keep / Export) was seen on.
    trigger_at: Option<Instant>,
    /// Local notes (cancel, open folder failures) shown before the status line.
    note: Option<(String, bool)>,
    demo: bool,
    /// `REDANCE_EDITOR_LAYOUT`: where to write the widgets' rects once (screenshot test).
    layout_out: Option<PathBuf>,
    layout: BTreeMap<&'static str, egui::Rect>,
    frames: u64,
    /// The scale the window is drawn at (its logical size includes it).
    zoom: f32,
}

use models::ModelEntry;

impl App {
    pub fn new(inputs: EditorInputs) -> Self {
        Self {
            inputs,
            gui: None,
            ctx: None,
            loader: None,
            manifest: None,
            manifest_key: None,
            source: LaneSlot::default(),
            take: LaneSlot::default(),
            render_started: None,
            engine_status: EngineStatus::default(),
            engine_status_at: None,
            models: Vec::new(),
            model_folder: None,
            capture_rearm: false,
            trigger_at: None,
            note: None,
            demo: demo::enabled(),
            layout_out: std::env::var_os("REDANCE_EDITOR_LAYOUT").filter(|p| !p.is_empty()).map(PathBuf::from),
            layout: BTreeMap::new(),
            frames: 0,
            zoom: 1.0,
        }
    }

    fn scan_models(&self) {
        if let Some(loader) = &self.loader {
            loader.request(Request::ScanModels(models::search_dirs(&self.inputs.data_dir)));
        }
    }

    /// Once a frame: replies from the loader, the manifest, the engine status (4 Hz).
    fn refresh(&mut self, ctx: &Context) {
        let replies = self.loader.as_ref().map(Loader::poll).unwrap_or_default();
        for reply in replies {
            match reply {
                Reply::Models(m) => self.models = m,
                Reply::Lane { lane, key, result } => {
                    let slot = if lane == LaneKind::Source { &mut self.source } else { &mut self.take };
                    if slot.key.as_deref() != Some(key.as_str()) {
                        continue;
                    }
                    match result {
                        Ok(data) => {
                            slot.texture = Some(ctx.load_texture(
                                format!("redance-{lane:?}-spectrogram"),
                                data.spectrogram.image(),
                                TextureOptions::LINEAR,
                            ));
                            slot.data = Some(data);
                        }
                        Err(e) => slot.error = Some(e),
                    }
                    let (s, t) =
                        (self.source.data.as_ref().map(|d| &d.overview), self.take.data.as_ref().map(|d| &d.overview));
                    ab::update_gain(&self.inputs.shared.status, s, t);
                }
            }
        }
        let status = &self.inputs.shared.status;
        if !self.demo {
            let key = (
                status.message_seq.load(Ordering::Acquire),
                status.restore_seen.load(Ordering::Acquire),
                status.renders_finished.load(Ordering::Acquire),
            );
            if self.manifest_key != Some(key) {
                self.manifest_key = Some(key);
                let value = self.inputs.shared.saved.lock().clone();
                self.manifest = TakesManifest::parse(&value).ok().flatten();
            }
        }
        if let Some(loader) = &self.loader {
            let source = self.manifest.as_ref().and_then(|m| m.source.as_ref()).map(|s| s.file.clone());
            let take = self.manifest.as_ref().and_then(TakesManifest::current_take).map(|t| t.file.clone());
            if self.demo {
                if self.source.key.is_none() {
                    self.source.key = Some(demo::SOURCE_KEY.into());
                    self.take.key = Some(demo::TAKE_KEY.into());
                    loader.request(Request::Demo {
                        source_key: demo::SOURCE_KEY.into(),
                        take_key: demo::TAKE_KEY.into(),
                    });
                }
            } else {
                let key = source.as_ref().map(|f| f.sha256.clone());
                self.source.want(
                    key.as_deref(),
                    || Request::Lane { lane: LaneKind::Source, file: source.clone().unwrap() },
                    loader,
                );
                let key = take.as_ref().map(|f| f.sha256.clone());
                self.take.want(
                    key.as_deref(),
                    || Request::Lane { lane: LaneKind::Take, file: take.clone().unwrap() },
                    loader,
                );
            }
        }
        let rendering = status.rendering.load(Ordering::Acquire);
        match (rendering, self.render_started) {
            (true, None) => {
                self.render_started =
                    Some(if self.demo { Instant::now() - Duration::from_secs(9) } else { Instant::now() })
            }
            (false, Some(_)) => self.render_started = None,
            _ => {}
        }
        if self.engine_status_at.is_none_or(|t| t.elapsed() > Duration::from_millis(250)) {
            self.engine_status = self.inputs.engine.status();
            self.engine_status_at = Some(Instant::now());
        }
    }

    fn phase(&self) -> PhaseView {
        let s = &self.inputs.shared.status;
        let done = s.capture_frames_done.load(Ordering::Relaxed);
        let total = s.capture_frames_total.load(Ordering::Relaxed);
        let manifest = self.manifest.as_ref();
        let current = manifest.and_then(TakesManifest::current_take);
        PhaseView {
            active: self.demo || self.inputs.shared.engine_owner.load(Ordering::Relaxed) != 0,
            capture: s.capture_phase(),
            capture_fraction: if total > 0 { done as f32 / total as f32 } else { 0.0 },
            rendering: s.rendering.load(Ordering::Relaxed),
            has_source: manifest.is_some_and(|m| m.source.is_some())
                || s.captures_completed.load(Ordering::Relaxed) > 0,
            has_take: current.is_some() || s.take_frames_total.load(Ordering::Relaxed) > 0,
            take_kept: current.is_some_and(|t| t.kept),
        }
    }

    fn act(&mut self, action: Action, setter: &ParamSetter) {
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
    fn release_triggers(&mut self, setter: &ParamSetter, ctx: &Context) {
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

    fn record(&mut self, name: &'static str, rect: egui::Rect) {
        if self.layout_out.is_some() {
            self.layout.insert(name, rect);
        }
    }

    /// Writes the recorded rects (physical pixels) once, on the fifth frame.
    fn dump_layout(&mut self, ctx: &Context) {
        let Some(path) = self.layout_out.clone() else { return };
        if self.frames != 5 {
            return;
        }
        let ppp = ctx.pixels_per_point();
        let regions: serde_json::Map<String, serde_json::Value> = self
            .layout
            .iter()
            .map(|(k, r)| {
                ((*k).to_string(), serde_json::json!([r.min.x * ppp, r.min.y * ppp, r.max.x * ppp, r.max.y * ppp]))
            })
            .collect();
        let screen = ctx.content_rect();
        let doc = serde_json::json!({
            "pixels_per_point": ppp,
            "window": [screen.width() * ppp, screen.height() * ppp],
            "regions": regions,
        });
        let _ = std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap_or_default());
    }

    fn lane(&mut self, ui: &mut Ui, kind: LaneKind, height: f32) {
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
            let lane_h = ((ui.available_height() - 420.0) / 2.0).clamp(80.0, 400.0);
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
                    models::show(ui, &self.models, self.model_folder.as_deref())
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

    fn closed(&mut self) {
        // The loader thread ends once it sees the channel closed; no join, so closing never waits.
        self.loader = None;
        self.ctx = None;
        self.gui = None;
        self.source = LaneSlot::default();
        self.take = LaneSlot::default();
    }
}
