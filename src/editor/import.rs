//! Import… under the model picker: a checkpoint's path, then the same import as
//! `redance model import` on a thread of its own, showing its phase with a Cancel button. The UI
//! only polls a channel each frame, so neither it nor the audio waits; the picker rescans when a
//! model has been installed. Closing the editor cancels a running import (nothing half-installed).

use crossbeam_channel::{Receiver, TryRecvError};
use egui::{Context, Ui};
use redance_engine::import::{self, ImportError, ImportRequest, Imported, Progress};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

enum Msg {
    Phase(String),
    Done(Result<Imported, ImportError>),
}

struct Running {
    cancel: Arc<AtomicBool>,
    rx: Receiver<Msg>,
    /// The phase last reported ("[4/7] converting to ONNX").
    phase: String,
}

/// The Import… row's state: the path being typed, the running import, the last outcome.
#[derive(Default)]
pub struct ImportUi {
    /// The path typed or pasted into the field.
    path: String,
    /// Whether the row is open.
    open: bool,
    running: Option<Running>,
    /// The last import's outcome (text, is_error), shown until the next one starts.
    last: Option<(String, bool)>,
}

/// The request the editor makes: the path as typed (quotes from a pasted path removed), the rest
/// as `redance model import PATH` would.
pub fn request(path: &str, data_dir: &Path) -> ImportRequest {
    let trimmed = path.trim().trim_matches(|c| c == '"' || c == '\'');
    ImportRequest { source: PathBuf::from(trimmed), data_dir: data_dir.to_owned(), ..Default::default() }
}

impl ImportUi {
    /// Starts the import on its own thread; `ctx` is woken at each phase.
    fn start(&mut self, request: ImportRequest, ctx: Context) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let spawned = std::thread::Builder::new().name("redance-import".into()).spawn(move || {
            let result = import::run(&request, &flag, &mut |p| {
                if let Progress::Phase(n, of, what) = p {
                    let _ = tx.send(Msg::Phase(format!("[{n}/{of}] {what}")));
                    ctx.request_repaint();
                }
            });
            let _ = tx.send(Msg::Done(result));
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => {
                self.last = None;
                self.running = Some(Running { cancel, rx, phase: "starting".into() });
            }
            Err(e) => self.last = Some((format!("cannot start the import ({e})"), true)),
        }
    }

    /// Takes what the import thread said; the installed model's folder once it is done.
    fn poll(&mut self) -> Option<PathBuf> {
        let running = self.running.as_mut()?;
        loop {
            match running.rx.try_recv() {
                Ok(Msg::Phase(p)) => running.phase = p,
                Ok(Msg::Done(result)) => {
                    self.running = None;
                    return match result {
                        Ok(done) => {
                            self.last = Some((format!("Imported {} ({} Hz)", done.name, done.sample_rate), false));
                            self.path.clear();
                            Some(done.dir)
                        }
                        Err(e) => {
                            self.last = Some((e.to_string(), !matches!(e, ImportError::Cancelled)));
                            None
                        }
                    };
                }
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Disconnected) => {
                    self.running = None;
                    self.last = Some(("the import stopped unexpectedly".into(), true));
                    return None;
                }
            }
        }
    }

    /// The row under the picker. Returns the folder of a model that has just been installed.
    pub fn show(&mut self, ui: &mut Ui, data_dir: &Path) -> Option<PathBuf> {
        let installed = self.poll();
        ui.horizontal(|ui| {
            if let Some(running) = &self.running {
                ui.spinner();
                ui.label(format!("Importing: {}", running.phase));
                if ui.button("Cancel").on_hover_text("Stop the import; nothing is installed").clicked() {
                    running.cancel.store(true, Ordering::Relaxed);
                }
            } else if ui
                .button("Import…")
                .on_hover_text("Convert a Dance Diffusion checkpoint (.ckpt or diffusers folder) into a model")
                .clicked()
            {
                self.open = !self.open;
            }
        });
        if self.open && self.running.is_none() {
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut self.path)
                        .hint_text("path to glitch-440k.ckpt or a diffusers folder")
                        .desired_width(240.0),
                );
                if ui.add_enabled(!self.path.trim().is_empty(), egui::Button::new("Import")).clicked() {
                    self.start(request(&self.path, data_dir), ui.ctx().clone());
                }
            });
            ui.label(
                egui::RichText::new(
                    "The first import installs PyTorch in Redance's own Python environment (several minutes).",
                )
                .small()
                .weak(),
            );
        }
        if let Some((text, is_error)) = &self.last {
            let color = if *is_error { ui.visuals().error_fg_color } else { ui.visuals().text_color() };
            ui.add(egui::Label::new(egui::RichText::new(text).color(color).small()).wrap());
        }
        installed
    }
}

impl Drop for ImportUi {
    fn drop(&mut self) {
        if let Some(running) = &self.running {
            running.cancel.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_pasted_path_is_unquoted_and_imports_into_the_data_folder() {
        let r = request("  '/music/glitch-440k.ckpt' ", Path::new("/data"));
        assert_eq!(r.source, Path::new("/music/glitch-440k.ckpt"));
        assert_eq!(r.data_dir, Path::new("/data"));
        assert!(!r.force && r.name.is_none());
    }

    #[test]
    fn a_failed_import_is_reported_without_blocking() {
        let data = tempfile::tempdir().unwrap();
        let mut ui = ImportUi::default();
        ui.start(request("/nonexistent/model.ckpt", data.path()), Context::default());
        let started = Instant::now();
        while ui.running.is_some() {
            assert!(ui.poll().is_none());
            assert!(started.elapsed() < Duration::from_secs(20));
            std::thread::sleep(Duration::from_millis(10));
        }
        let (text, is_error) = ui.last.clone().unwrap();
        assert!(is_error && text.contains("does not exist"), "{text}");
    }
}
