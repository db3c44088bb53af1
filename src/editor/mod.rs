//! The editor (nice-plug-egui): what Redance captured, what it renders and what came out, with a
//! control for every parameter. It reads [`Shared`] (status atomics, the message, the saved-takes
//! manifest) and the parameters; parameter changes go through the host (`ParamSetter`), so
//! automation and undo see them. Nothing here blocks the UI thread: files, overviews,
//! spectrograms and model scans are done on the [`loader`] thread, model switches and cancels are
//! queued on the engine.
//!
//! One widget a file: [`buttons`], [`progress`], [`lane`] (with [`overview`] and [`spectrogram`]),
//! [`params_panel`], [`ab`], [`history`], [`models`], [`render_on`], [`status_line`]; [`demo`] fills it for the
//! screenshot test (`REDANCE_EDITOR_DEMO=1`).
//!
//! The view state is [`App`], here. Once a frame `refresh` brings it up to date with the shared
//! state, `page` lays out the window (each lane built by `lane_view`), `actions` carries out what
//! the buttons ask, and `layout_probe` writes the widgets' rectangles for the screenshot test.

pub mod ab;
mod actions;
pub mod buttons;
pub mod demo;
pub mod history;
pub mod import;
pub mod lane;
mod lane_view;
mod layout_probe;
pub mod loader;
pub mod models;
pub mod overview;
mod page;
pub mod params_panel;
pub mod progress;
mod refresh;
pub mod render_on;
pub mod spectrogram;
pub mod status_line;
pub mod style;

use crate::params::RedanceParams;
use crate::shared::Shared;
use crate::state::manifest::TakesManifest;
use egui::Context;
use lane_view::LaneSlot;
use loader::{Loader, Request};
use models::ModelEntry;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::ResizeHint;
use nice_plug_egui::{EguiEditorState, EguiNiceSettings, RepaintNotifier};
use redance_engine::Engine;
use redance_engine::worker::EngineStatus;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// The editor type nice-plug hosts.
pub type RedanceEditor = nice_plug_egui::EguiEditor<App>;

/// What the plugin hands the editor.
pub struct EditorInputs {
    /// The parameters (read, and set through the host).
    pub params: Arc<RedanceParams>,
    /// Status, manifest and track name of the instance.
    pub shared: Arc<Shared>,
    /// The engine the bridge renders on (its status, model switches, cancel).
    pub engine: &'static Engine,
    /// The bridge's data folder (stored takes, the user's model folder).
    pub data_dir: PathBuf,
}

/// The editor, sized as the project saved it.
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
/// The editor's view state; see the module docs.
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
    /// The "Render on" row as being edited, and the setting's change count it was last read at.
    render_on: crate::state::render_on::RenderOn,
    render_on_seen: Option<u64>,
    /// Import… under the picker (its own thread; polled here).
    import: import::ImportUi,
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

impl App {
    /// A view of `inputs`, before the window opens.
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
            import: import::ImportUi::default(),
            render_on: Default::default(),
            render_on_seen: None,
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
}
