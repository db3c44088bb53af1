//! The status line: runtime (loaded or not, from where), execution provider (and why), the model
//! (name, rate, window), the bridge's last message, and errors in plain words with what to do.

use crate::editor::style;
use egui::{RichText, Ui};
use redance_engine::backend::remote::served_at;
use redance_engine::worker::EngineStatus;

/// One part of the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The words.
    pub text: String,
    /// How they are shown.
    pub kind: Kind,
}

/// How a part of the status line is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// All is well.
    Ok,
    /// Not loaded yet, loading: nothing wrong.
    Pending,
    /// Works, with a caveat.
    Warning,
    /// Something failed.
    Error,
}

fn part(text: impl Into<String>, kind: Kind) -> Part {
    Part { text: text.into(), kind }
}

/// "ONNX Runtime 1.22.0 (/path/libonnxruntime.so)" or why not.
pub fn runtime_part(s: &EngineStatus) -> Part {
    match (&s.runtime, s.loading) {
        (Some(r), _) => part(format!("ONNX Runtime {} loaded from {}", r.version, r.path.display()), Kind::Ok),
        (None, true) => part("Loading ONNX Runtime and the model…", Kind::Pending),
        (None, false) if s.device.as_deref().and_then(served_at).is_some() => {
            part("No ONNX Runtime needed here (the server runs the model)", Kind::Ok)
        }
        (None, false) if s.model.is_some() => part("No ONNX Runtime needed (built-in test model)", Kind::Ok),
        (None, false) if s.error.is_some() => part("ONNX Runtime not loaded", Kind::Error),
        (None, false) => part("ONNX Runtime not loaded yet (loads at the first render)", Kind::Pending),
    }
}

/// "CPU" / "CUDA" and, when CUDA could have been used but was not, why.
pub fn provider_part(s: &EngineStatus) -> Option<Part> {
    let device = s.device.as_deref()?;
    Some(match &s.provider_note {
        Some(note) => part(format!("Runs on {device} ({note})"), Kind::Warning),
        None => part(format!("Runs on {device}"), Kind::Ok),
    })
}

/// "Model dd-tiny · 16000 Hz · window 65536 (4.1 s)".
pub fn model_part(s: &EngineStatus) -> Option<Part> {
    let m = s.model.as_ref()?;
    let secs = m.window_length as f64 / m.sample_rate.max(1) as f64;
    Some(part(
        format!("Model {} · {} Hz · window {} samples ({secs:.1} s)", m.name, m.sample_rate, m.window_length),
        Kind::Ok,
    ))
}

/// An engine or render error, with the step that fixes it.
pub fn advice(error: &str) -> String {
    let e = error.to_ascii_lowercase();
    let what = if e.contains("onnx runtime library not found") {
        "Install it with scripts/setup.sh (or `cargo xtask fetch-ort`), or point ORT_DYLIB_PATH at libonnxruntime."
    } else if e.contains("onnx runtime at") {
        "The library there is broken or the wrong version: fetch it again with `cargo xtask fetch-ort`."
    } else if e.contains("manifest") {
        "This model folder is not usable: pick another model, or the built-in one."
    } else if e.contains("damaged") || e.contains("sha256") {
        "The model file is damaged: copy or export it again, or pick another model."
    } else if e.contains("cuda") {
        "Redance renders on the CPU instead; install the CUDA runtime for GPU rendering."
    } else if e.contains("missing") || e.contains("changed since") {
        "Keep the Redance data folder with the project; capture and render again to replace it."
    } else if e.contains("render server") {
        "The capture is kept: set Render on to This computer and press Render, or press Render again once the \
         server is back."
    } else if e.contains("nothing captured") || e.contains("no take") {
        ""
    } else {
        "Try rendering again; if it keeps failing, pick the built-in model."
    };
    let error = error.trim_end_matches('.');
    if what.is_empty() { format!("{error}.") } else { format!("{error}. {what}") }
}

/// The whole line, engine parts first, then the bridge's message.
pub fn parts(s: &EngineStatus, message: &str, message_is_error: bool) -> Vec<Part> {
    let mut out = vec![runtime_part(s)];
    out.extend(provider_part(s));
    out.extend(model_part(s));
    if let Some(err) = &s.error {
        out.push(part(advice(err), Kind::Error));
    }
    if !message.is_empty() {
        if message_is_error {
            out.push(part(advice(message), Kind::Error));
        } else {
            out.push(part(message, Kind::Ok));
        }
    }
    out
}

/// While a render runs in a host playing in real time ([`crate::status::Status::bounce_may_miss`]):
/// a bounce cannot wait for the take there.
pub fn bounce_warning() -> Part {
    part("A bounce started now may miss this take (offline bounces wait)", Kind::Warning)
}

/// Draws the parts, wrapped; errors in the error colour.
pub fn show(ui: &mut Ui, parts: &[Part]) {
    ui.horizontal_wrapped(|ui| {
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                ui.label(RichText::new("·").color(style::DIM));
            }
            let color = match p.kind {
                Kind::Ok => style::TEXT,
                Kind::Pending => style::DIM,
                Kind::Warning => style::WARN,
                Kind::Error => style::ERROR,
            };
            ui.label(RichText::new(&p.text).color(color));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use redance_engine::ModelInfo;
    use redance_engine::model::Runtime;

    fn loaded() -> EngineStatus {
        EngineStatus {
            runtime: Some(Runtime { path: "/opt/ort/libonnxruntime.so".into(), version: "1.22.0".into() }),
            model: Some(ModelInfo {
                name: "dd-tiny".into(),
                sample_rate: 16_000,
                channels: 1,
                window_length: 65_536,
                length_multiple: 256,
                min_length: 256,
            }),
            device: Some("CPU".into()),
            provider_note: Some("CUDA not found: no NVIDIA driver".into()),
            ..Default::default()
        }
    }

    #[test]
    fn loaded_engine_in_words() {
        let p = parts(&loaded(), "Take 3 ready", false);
        let texts: Vec<&str> = p.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts[0], "ONNX Runtime 1.22.0 loaded from /opt/ort/libonnxruntime.so");
        assert_eq!(texts[1], "Runs on CPU (CUDA not found: no NVIDIA driver)");
        assert_eq!(p[1].kind, Kind::Warning);
        assert_eq!(texts[2], "Model dd-tiny · 16000 Hz · window 65536 samples (4.1 s)");
        assert_eq!(texts[3], "Take 3 ready");
    }

    #[test]
    fn not_loaded_and_errors_say_what_to_do() {
        let fresh = EngineStatus::default();
        assert_eq!(runtime_part(&fresh).kind, Kind::Pending);
        assert!(provider_part(&fresh).is_none() && model_part(&fresh).is_none());
        let failed = EngineStatus {
            error: Some("ONNX Runtime library not found (looked for a, b). Run `cargo xtask fetch-ort`".into()),
            ..Default::default()
        };
        let p = parts(&failed, "", false);
        assert_eq!(p[0], part("ONNX Runtime not loaded", Kind::Error));
        assert!(p[1].text.contains("scripts/setup.sh"), "{}", p[1].text);
        assert!(advice("model manifest /x/manifest.json: not a valid manifest").contains("pick another model"));
        let lost =
            advice("Render of take 2 failed: render server http://gpu:8000: model call failed (connection lost)");
        assert!(lost.contains("This computer") && lost.contains("capture is kept"), "{lost}");
        assert_eq!(advice("Nothing captured yet: press Capture first."), "Nothing captured yet: press Capture first.");
    }
}
