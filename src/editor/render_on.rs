//! The "Render on" row: This computer / Server, the server's address and Apply, then where renders
//! go in words (checking / ready: model, rate / not reachable: why). Apply stores the project's
//! setting; the bridge hands it to the engine (see `state::render_on`), so nothing here waits.

use super::status_line::{Kind, Part};
use crate::state::render_on::RenderOn;
use egui::Ui;
use redance_engine::backend::remote::served_at;
use redance_engine::worker::EngineStatus;

/// The row; `draft` is what the user is editing, `state` the words under it. True when Apply was
/// pressed.
pub fn show(ui: &mut Ui, draft: &mut RenderOn, state: &Part) -> bool {
    let mut apply = false;
    ui.horizontal(|ui| {
        ui.label("Render on");
        ui.radio_value(&mut draft.server, false, "This computer");
        ui.radio_value(&mut draft.server, true, "Server");
        ui.add_enabled(
            draft.server,
            egui::TextEdit::singleline(&mut draft.url).hint_text("http://host:8000").desired_width(170.0),
        );
        apply = ui.button("Apply").on_hover_text("Render here or on the server from the next render").clicked();
    });
    super::status_line::show(ui, std::slice::from_ref(state));
    apply
}

/// Where renders go, in words, from the project's setting and what the engine last loaded. The
/// engine is shared by every instance in the process, so what it loaded is shown when it differs.
pub fn state(on: &RenderOn, s: &EngineStatus) -> Part {
    let remote = s.device.as_deref().filter(|d| served_at(d).is_some());
    let server = match on.server_options() {
        Err(e) => return Part { text: format!("Render on: {e}"), kind: Kind::Error },
        Ok(None) => {
            return match remote {
                Some(d) => {
                    Part { text: format!("This computer, from the next render (so far: {d})"), kind: Kind::Warning }
                }
                None => Part { text: "Renders on this computer".into(), kind: Kind::Ok },
            };
        }
        Ok(Some(server)) => server,
    };
    let url = server.url;
    if s.loading {
        return Part { text: format!("Server {url}: checking…"), kind: Kind::Pending };
    }
    if let Some(e) = s.error.as_deref().filter(|e| e.contains(&url)) {
        return Part { text: format!("Server {e}"), kind: Kind::Error };
    }
    match (remote, &s.model) {
        (Some(d), Some(m)) if served_at(d).is_some_and(|at| at.starts_with(&url)) => {
            Part { text: format!("Server {url} ready: model {}, {} Hz", m.name, m.sample_rate), kind: Kind::Ok }
        }
        (Some(d), _) => Part { text: format!("Server {url}, from the next render (so far: {d})"), kind: Kind::Warning },
        _ => Part { text: format!("Server {url}: checked at the next render"), kind: Kind::Pending },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redance_engine::ModelInfo;

    fn on(url: &str) -> RenderOn {
        RenderOn { server: true, url: url.into() }
    }

    fn served(device: &str) -> EngineStatus {
        EngineStatus {
            model: Some(ModelInfo {
                name: "dd-tiny".into(),
                sample_rate: 16_000,
                channels: 1,
                window_length: 65_536,
                length_multiple: 256,
                min_length: 256,
            }),
            device: Some(device.into()),
            ..Default::default()
        }
    }

    #[test]
    fn server_states_in_words() {
        let checking = EngineStatus { loading: true, ..Default::default() };
        assert_eq!(state(&on("gpu:8000"), &checking).text, "Server http://gpu:8000: checking…");
        let ready = served("Triton at http://gpu:8000 (GPU)");
        let p = state(&on("gpu:8000"), &ready);
        assert_eq!((p.text.as_str(), p.kind), ("Server http://gpu:8000 ready: model dd-tiny, 16000 Hz", Kind::Ok));
        let down = EngineStatus {
            error: Some(
                "render server http://gpu:8000: not reachable: connection refused (is the server running?)".into(),
            ),
            ..Default::default()
        };
        let p = state(&on("gpu:8000"), &down);
        assert_eq!(p.kind, Kind::Error);
        assert!(p.text.contains("not reachable"), "{}", p.text);
        assert_eq!(state(&on("gpu:8000"), &EngineStatus::default()).kind, Kind::Pending);
    }

    #[test]
    fn what_the_shared_engine_really_uses_is_shown() {
        let elsewhere = served("Triton at http://other:8000 (CPU)");
        assert_eq!(state(&on("gpu:8000"), &elsewhere).kind, Kind::Warning);
        let local = RenderOn::default();
        assert_eq!(state(&local, &elsewhere).kind, Kind::Warning);
        assert_eq!(state(&local, &served("CPU")).text, "Renders on this computer");
        assert_eq!(state(&on("https://x"), &served("CPU")).kind, Kind::Error);
    }
}
