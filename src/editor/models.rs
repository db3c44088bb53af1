//! The model picker: models found in the user's model folder and in `models/`, the built-in one,
//! and "open folder". Scanning runs on the loader thread; picking calls `Engine::set_model`, which
//! only queues the switch (the engine's worker reloads in the background).

use egui::{ComboBox, Ui};
use redance_engine::model::Manifest;
use std::path::{Path, PathBuf};

/// A model folder found on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEntry {
    /// The folder holding `manifest.json`.
    pub dir: PathBuf,
    /// Its manifest's name.
    pub name: String,
    /// Its sample rate.
    pub sample_rate: u32,
    /// Its trained window.
    pub window_length: usize,
}

impl ModelEntry {
    /// How the menu lists it.
    pub fn label(&self) -> String {
        format!("{} ({} Hz, {} s window)", self.name, self.sample_rate, fmt_s(self.window_length, self.sample_rate))
    }
}

fn fmt_s(frames: usize, rate: u32) -> String {
    format!("{:.1}", frames as f64 / rate.max(1) as f64)
}

/// The user's model folder: `models` under the data folder.
pub fn user_dir(data_dir: &Path) -> PathBuf {
    redance_engine::model::library::user_models_dir(data_dir)
}

/// Where models are looked for: the user's folder, `REDANCE_MODELS_DIR`, `models/` in the working
/// directory and beside the executable (without duplicates).
pub fn search_dirs(data_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![user_dir(data_dir)];
    if let Some(d) = std::env::var_os("REDANCE_MODELS_DIR").filter(|d| !d.is_empty()) {
        dirs.push(d.into());
    }
    if let Ok(cwd) = std::env::current_dir() {
        dirs.push(cwd.join("models"));
    }
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_owned)) {
        dirs.push(exe_dir.join("models"));
    }
    let mut seen = Vec::new();
    dirs.retain(|d| {
        let key = d.canonicalize().unwrap_or_else(|_| d.clone());
        let new = !seen.contains(&key);
        seen.push(key);
        new
    });
    dirs
}

/// Every sub-folder of `dirs` whose `manifest.json` is a valid Redance manifest (the model file is
/// checked when it loads). Sorted by name. Slow (file reads): loader thread only.
pub fn scan(dirs: &[PathBuf]) -> Vec<ModelEntry> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let manifest_path = path.join("manifest.json");
            let Ok(text) = std::fs::read_to_string(&manifest_path) else { continue };
            if let Ok(m) = Manifest::parse(&text, &manifest_path) {
                out.push(ModelEntry {
                    dir: path,
                    name: m.name,
                    sample_rate: m.sample_rate,
                    window_length: m.window_length,
                });
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.dir.cmp(&b.dir)));
    out
}

/// Opens `dir` in the desktop's file manager (created first); returns at once.
pub fn open_folder(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {} ({e})", dir.display()))?;
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("cannot start {opener} ({e}); the folder is {}", dir.display()))
}

/// What the picker asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Pick {
    /// The model built into the plugin.
    BuiltIn,
    /// A model folder.
    Folder(PathBuf),
    /// Look for model folders again.
    Rescan,
    /// Open the user's model folder.
    OpenFolder,
}

/// The picker row. `current`: the folder of the model in use (`None`: built-in).
pub fn show(ui: &mut Ui, models: &[ModelEntry], current: Option<&Path>) -> Option<Pick> {
    let mut pick = None;
    let selected = match current {
        None => "Built-in default model".to_string(),
        Some(dir) => {
            models.iter().find(|m| m.dir == dir).map(ModelEntry::label).unwrap_or_else(|| dir.display().to_string())
        }
    };
    ui.horizontal(|ui| {
        ui.label("Model");
        ComboBox::from_id_salt("redance-model").width(280.0).selected_text(selected).show_ui(ui, |ui| {
            if ui.selectable_label(current.is_none(), "Built-in default model").clicked() {
                pick = Some(Pick::BuiltIn);
            }
            for m in models {
                if ui
                    .selectable_label(current == Some(m.dir.as_path()), m.label())
                    .on_hover_text(m.dir.display().to_string())
                    .clicked()
                {
                    pick = Some(Pick::Folder(m.dir.clone()));
                }
            }
        });
        if ui.button("Rescan").on_hover_text("Look for models again").clicked() {
            pick = Some(Pick::Rescan);
        }
        if ui.button("Open folder").on_hover_text("Put model folders (manifest.json + .onnx) here").clicked() {
            pick = Some(Pick::OpenFolder);
        }
    });
    pick
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"{"format":1,"name":"NAME","sample_rate":16000,"channels":1,"window_length":65536,"length_multiple":64,"min_length":64,"objective":"v","inputs":{"audio":"audio","t":"t"},"output":"v","onnx":"model.onnx","sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}"#;

    #[test]
    fn scan_finds_valid_model_folders_only() {
        let root = tempfile::tempdir().unwrap();
        for (dir, text) in
            [("b", MANIFEST.replace("NAME", "beta")), ("a", MANIFEST.replace("NAME", "alpha")), ("bad", "{}".into())]
        {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
            std::fs::write(root.path().join(dir).join("manifest.json"), text).unwrap();
        }
        std::fs::create_dir_all(root.path().join("empty")).unwrap();
        let found = scan(&[root.path().to_owned(), root.path().join("does-not-exist")]);
        let names: Vec<&str> = found.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["alpha", "beta"]);
        assert_eq!(found[0].label(), "alpha (16000 Hz, 4.1 s window)");
    }

    #[test]
    fn search_dirs_start_with_the_user_folder() {
        let dirs = search_dirs(Path::new("/tmp/redance-data"));
        assert_eq!(dirs[0], Path::new("/tmp/redance-data/models"));
        assert!(dirs.iter().any(|d| d.ends_with("models")));
    }
}
