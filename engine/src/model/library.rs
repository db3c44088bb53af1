//! The user's models: the data folder, the model folder under it, and what is installed there
//! (one sub-folder per model, named like the model). `redance model list/remove`, `--model NAME`
//! and the plugin's model picker all read the same place.

use super::Manifest;
use std::path::{Path, PathBuf};

/// `REDANCE_DATA_DIR`, else the platform's data folder + `Redance` (takes, models, the import's
/// Python environment).
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("REDANCE_DATA_DIR").filter(|d| !d.is_empty()) {
        return dir.into();
    }
    let home = || std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    if cfg!(target_os = "macos") {
        home().join("Library/Application Support/Redance")
    } else if cfg!(windows) {
        std::env::var_os("APPDATA").map(PathBuf::from).unwrap_or_else(home).join("Redance")
    } else {
        std::env::var_os("XDG_DATA_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home().join(".local/share"))
            .join("redance")
    }
}

/// The user's model folder: `models` under the data folder.
pub fn user_models_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models")
}

/// A model folder with a valid manifest.
#[derive(Debug, Clone)]
pub struct InstalledModel {
    /// The folder holding `manifest.json`.
    pub dir: PathBuf,
    /// Its manifest, checked.
    pub manifest: Manifest,
    /// Bytes of every file in the folder.
    pub size_bytes: u64,
}

impl InstalledModel {
    /// "fp32", or "fp32, fp16" when the folder has variants.
    pub fn precisions(&self) -> String {
        std::iter::once("fp32").chain(self.manifest.variants.keys().map(String::as_str)).collect::<Vec<_>>().join(", ")
    }
}

/// Every sub-folder of `dir` whose manifest is valid, sorted by name (the model files are checked
/// when they load). A missing folder is an empty list.
pub fn installed(dir: &Path) -> Vec<InstalledModel> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        let manifest_path = path.join("manifest.json");
        let Ok(text) = std::fs::read_to_string(&manifest_path) else { continue };
        if let Ok(manifest) = Manifest::parse(&text, &manifest_path) {
            out.push(InstalledModel { size_bytes: folder_size(&path), dir: path, manifest });
        }
    }
    out.sort_by(|a, b| a.manifest.name.cmp(&b.manifest.name).then(a.dir.cmp(&b.dir)));
    out
}

/// The installed model called `name` (its folder name or its manifest's name).
pub fn find(dir: &Path, name: &str) -> Option<InstalledModel> {
    installed(dir).into_iter().find(|m| m.dir.file_name().is_some_and(|f| f == name) || m.manifest.name == name)
}

fn folder_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.flatten().filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
        })
        .unwrap_or(0)
}

/// A model name is also its folder name: letters, digits, `.`, `-`, `_`, not starting with `.`.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(format!("'{name}' cannot be a model name: use letters, digits, '.', '-' and '_' (at most 64)"))
    }
}

/// The name a file or folder gives a model when none is asked for: its stem, tidied into a valid
/// name.
pub fn name_from_source(source: &Path) -> String {
    let stem = source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let tidy: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '-' })
        .collect::<String>()
        .trim_start_matches('.')
        .chars()
        .take(64)
        .collect();
    if tidy.is_empty() { "imported-model".into() } else { tidy }
}

/// Deletes the installed model `name`; returns the folder it was in.
pub fn remove(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let model = find(dir, name).ok_or_else(|| {
        let names: Vec<String> = installed(dir).into_iter().map(|m| m.manifest.name).collect();
        let list = if names.is_empty() { "none".to_string() } else { names.join(", ") };
        format!("no model named '{name}' is installed in {} (installed: {list})", dir.display())
    })?;
    std::fs::remove_dir_all(&model.dir).map_err(|e| format!("cannot remove {} ({e})", model.dir.display()))?;
    Ok(model.dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"{"format":1,"name":"NAME","sample_rate":16000,"channels":2,"window_length":65536,"length_multiple":64,"min_length":192,"objective":"v","inputs":{"audio":"audio","t":"t"},"output":"v","onnx":"model.onnx","sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}"#;

    #[test]
    fn lists_finds_and_removes_by_folder_or_manifest_name() {
        let root = tempfile::tempdir().unwrap();
        for (dir, name) in [("b", "beta"), ("alpha", "alpha")] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
            std::fs::write(root.path().join(dir).join("manifest.json"), MANIFEST.replace("NAME", name)).unwrap();
        }
        std::fs::create_dir_all(root.path().join("junk")).unwrap();
        let names: Vec<String> = installed(root.path()).into_iter().map(|m| m.manifest.name).collect();
        assert_eq!(names, ["alpha", "beta"]);
        assert!(find(root.path(), "b").is_some() && find(root.path(), "beta").is_some());
        assert_eq!(installed(root.path())[0].precisions(), "fp32");
        assert!(remove(root.path(), "nope").unwrap_err().contains("installed: alpha, beta"));
        remove(root.path(), "beta").unwrap();
        assert!(!root.path().join("b").exists());
        assert!(installed(&root.path().join("missing")).is_empty());
    }

    #[test]
    fn names_are_safe_folder_names() {
        assert!(check_name("glitch-440k").is_ok());
        for bad in ["", "..", ".hidden", "a/b", "a b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert_eq!(name_from_source(Path::new("/x/My Model (v2).ckpt")), "My-Model--v2-");
        assert_eq!(name_from_source(Path::new("/x/maestro-150k")), "maestro-150k");
        assert_eq!(name_from_source(Path::new("/x/.ckpt")), "ckpt");
        assert_eq!(name_from_source(Path::new("/")), "imported-model");
    }
}
