//! The screenshot test's probe: with `REDANCE_EDITOR_LAYOUT` set, the widgets' rectangles (physical
//! pixels) are written once as JSON, so the test can check the page's layout.

use super::App;
use egui::Context;

impl App {
    pub(super) fn record(&mut self, name: &'static str, rect: egui::Rect) {
        if self.layout_out.is_some() {
            self.layout.insert(name, rect);
        }
    }

    /// Writes the recorded rects (physical pixels) once, on the fifth frame.
    pub(super) fn dump_layout(&mut self, ctx: &Context) {
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
}
