//! Importing a Dance Diffusion checkpoint (an original Harmonai `.ckpt` or a diffusers folder) into
//! the user's model folder: pre-check with the system Python (no torch), a private Python
//! environment made once, conversion to ONNX + manifest + fp16 variant, ONNX Runtime checked against
//! PyTorch, then one rename into place. Used by `redance model import` and the editor's Import….
//! Blocking: run it on a thread of its own; `cancel` stops it within a moment, leaving nothing.

mod child;
mod install;
mod python;
mod scripts;

pub use python::REQUIREMENTS;

use crate::model::ModelSource;
use crate::model::library;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

/// What to import and where.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// A `.ckpt` file or a diffusers folder.
    pub source: PathBuf,
    /// The model's name (and folder); default: the public checkpoint's name, else the file's stem.
    pub name: Option<String>,
    /// Replace an installed model of the same name.
    pub force: bool,
    /// Install pip packages from this folder of wheels only (offline machines).
    pub wheels: Option<PathBuf>,
    /// The model's sample rate, for checkpoints the table and config do not know.
    pub sample_rate: Option<u32>,
    /// The model's training window (`sample_size`) in frames, likewise.
    pub window_length: Option<usize>,
    /// Where the model folder, the work folders and the Python environment live.
    pub data_dir: PathBuf,
    /// The Python environment; default `<data_dir>/python`.
    pub env_dir: Option<PathBuf>,
}

/// A finished import.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The installed model's name (its folder's too).
    pub name: String,
    /// Where it was installed.
    pub dir: PathBuf,
    /// Its sample rate, in Hz.
    pub sample_rate: u32,
    /// Its window, in frames at its rate.
    pub window_length: usize,
    /// (length, max |ONNX Runtime − PyTorch|, max |PyTorch|) of the check.
    pub parity: Vec<(usize, f64, f64)>,
}

/// Why an import did not install a model.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The message is in plain words, with the fix where there is one.
    #[error("{0}")]
    Failed(String),
    /// Cancelled by the user (Ctrl-C, the editor's Cancel); the work folder is removed.
    #[error("import cancelled; nothing was installed")]
    Cancelled,
}

/// What an import tells its user as it goes.
pub enum Progress<'a> {
    /// A new phase: (number, of, what).
    Phase(usize, usize, &'a str),
    /// A line worth showing within the phase (the ONNX Runtime check, the environment being made).
    Note(&'a str),
    /// Everything the tools print, for a log.
    Log(&'a str),
}

/// Passes progress to the caller's callback.
pub struct Reporter<'a> {
    callback: &'a mut dyn FnMut(Progress),
    phase: usize,
}

/// The phases, in order, as the user sees them.
const PHASES: &[&str] = &[
    "checking the checkpoint",
    "preparing the Python environment",
    "loading the checkpoint",
    "converting to ONNX",
    "checking ONNX Runtime against PyTorch",
    "writing the fp16 variant",
    "installing the model",
];

impl Reporter<'_> {
    fn phase(&mut self, what: &str) {
        self.phase = PHASES.iter().position(|p| *p == what).map_or(self.phase + 1, |i| i + 1);
        (self.callback)(Progress::Phase(self.phase, PHASES.len(), what));
    }
    fn note(&mut self, text: &str) {
        (self.callback)(Progress::Note(text));
    }
    fn log(&mut self, text: &str) {
        (self.callback)(Progress::Log(text));
    }
}

/// The OS error in plain words (a full disk says so).
fn io_words(e: &std::io::Error, path: &Path) -> ImportError {
    ImportError::Failed(disk_words(&format!("cannot write {} ({e})", path.display())))
}

/// `text`, or the full-disk explanation when that is what it reports.
fn disk_words(text: &str) -> String {
    if text.contains("No space left on device") || text.contains("os error 28") || text.contains("Errno 28") {
        "the disk is full (no space left on device): free some space and import again".into()
    } else {
        text.to_string()
    }
}

/// What the pre-check learnt.
#[derive(serde::Deserialize)]
struct Precheck {
    known: Option<String>,
    sample_rate: Option<u32>,
    window_length: Option<usize>,
}

/// Runs the whole import. See the module doc.
pub fn run(
    req: &ImportRequest,
    cancel: &AtomicBool,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Imported, ImportError> {
    let result = run_phases(req, cancel, on_progress);
    // Ctrl-C in a terminal also stops the child processes, which then look like failures.
    if result.is_err() && cancel.load(Ordering::Relaxed) {
        return Err(ImportError::Cancelled);
    }
    result
}

fn run_phases(
    req: &ImportRequest,
    cancel: &AtomicBool,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Imported, ImportError> {
    let mut report = Reporter { callback: on_progress, phase: 0 };
    let cancelled = || if cancel.load(Ordering::Relaxed) { Err(ImportError::Cancelled) } else { Ok(()) };
    report.phase(PHASES[0]);
    if !req.source.exists() {
        return Err(ImportError::Failed(format!("{} does not exist", req.source.display())));
    }
    if let Some(name) = &req.name {
        library::check_name(name).map_err(ImportError::Failed)?;
    }
    let models_dir = library::user_models_dir(&req.data_dir);
    let early_target = req.name.as_ref().map(|n| models_dir.join(n));
    if let Some(target) = &early_target
        && target.exists()
        && !req.force
    {
        return Err(install::exists(target));
    }
    let python = python::system_python()?;
    let work = install::work_dir(&req.data_dir)?;
    let script_dir = work.path.join("scripts");
    scripts::write(&script_dir).map_err(|e| io_words(&e, &script_dir))?;
    let driver = script_dir.join(scripts::DRIVER);

    let mut cmd = Command::new(&python);
    cmd.arg(&driver).arg("precheck").arg(&req.source);
    let out = child::run(cmd, "Python", cancel, &mut |_| {})?;
    let refusal = out.lines.iter().find_map(|l| l.strip_prefix("@error ")).map(str::to_string);
    if let Some(reason) = refusal.or_else(|| (!out.success).then(|| out.tail(3))) {
        return Err(ImportError::Failed(reason));
    }
    let pre: Precheck =
        out.lines.iter().rev().find_map(|l| serde_json::from_str(l).ok()).ok_or_else(|| {
            ImportError::Failed(format!("the checkpoint pre-check said nothing useful: {}", out.tail(3)))
        })?;
    let sample_rate = req.sample_rate.or(pre.sample_rate);
    let window_length = req.window_length.or(pre.window_length);
    let (Some(sample_rate), Some(window_length)) = (sample_rate, window_length) else {
        return Err(ImportError::Failed(format!(
            "{} is not one of the public Dance Diffusion checkpoints, so its sample rate and window are unknown: \
             pass --rate HZ and --window FRAMES (the sample_rate and sample_size it was trained with, e.g. --rate 48000 --window 65536)",
            req.source.display()
        )));
    };
    let name = req.name.clone().or(pre.known).unwrap_or_else(|| library::name_from_source(&req.source));
    library::check_name(&name).map_err(ImportError::Failed)?;
    let target = models_dir.join(&name);
    if target.exists() && !req.force {
        return Err(install::exists(&target));
    }
    // The model in fp32 + fp16 is ~1.5× the checkpoint's EMA weights (a .ckpt holds two copies
    // plus optimiser state, so its size bounds this); a new environment is ~2 GB with PyTorch's CPU
    // wheels (PyPI's, with CUDA libraries, is larger: pip's own "no space" is explained too).
    let env = req.env_dir.clone().unwrap_or_else(|| req.data_dir.join("python"));
    let source_bytes = source_size(&req.source);
    let env_bytes = if python::is_ready(&env) { 0 } else { 2u64 << 30 };
    install::check_space(
        source_bytes.saturating_mul(2) + env_bytes + (64 << 20),
        install::free_bytes(&req.data_dir),
        &req.data_dir,
    )?;
    cancelled()?;

    report.phase(PHASES[1]);
    python::ensure_env(&python, &env, req.wheels.as_deref(), cancel, &mut report)?;
    cancelled()?;

    let model_dir = work.path.join("model");
    let mut cmd = Command::new(python::env_python(&env));
    cmd.arg(&driver)
        .arg("convert")
        .arg(&req.source)
        .arg("--out")
        .arg(&model_dir)
        .args(["--name", &name, "--sample-rate", &sample_rate.to_string()])
        .args(["--window-length", &window_length.to_string()]);
    let mut parity = Vec::new();
    let mut refusal = None;
    let out = child::run(cmd, "the environment's Python", cancel, &mut |line| {
        if let Some(what) = line.strip_prefix("@phase ") {
            report.phase(what);
        } else if let Some(p) = line.strip_prefix("@parity ") {
            let v: Vec<&str> = p.split_whitespace().collect();
            if let [len, diff, reference] = v[..] {
                let parsed =
                    (len.parse().unwrap_or(0), diff.parse().unwrap_or(f64::NAN), reference.parse().unwrap_or(0.0));
                report.note(&format!(
                    "ONNX Runtime vs PyTorch on {} frames of noise: max difference {:.1e} (largest output {:.2})",
                    parsed.0, parsed.1, parsed.2
                ));
                parity.push(parsed);
            }
        } else if let Some(e) = line.strip_prefix("@error ") {
            refusal = Some(e.to_string());
        } else {
            report.log(line);
        }
    })?;
    if !out.success {
        let reason = refusal.unwrap_or_else(|| {
            let tail = out.tail(4);
            let words = disk_words(&tail);
            if words != tail {
                words
            } else if tail.contains("Killed") || tail.contains("MemoryError") {
                "the computer ran out of memory converting this model (a full-size one needs several GB)".into()
            } else {
                format!("the conversion failed: {tail}")
            }
        });
        return Err(ImportError::Failed(reason));
    }
    cancelled()?;

    report.phase(PHASES[6]);
    // The engine reads it back exactly as it will when rendering: manifest, both graphs, hashes.
    let source = ModelSource::Path(model_dir.clone());
    for precision in [crate::model::Precision::Fp32, crate::model::Precision::Fp16] {
        source
            .load_as(precision)
            .map_err(|e| ImportError::Failed(format!("the converted model is not usable: {e}")))?;
    }
    cancelled()?;
    install::install(&model_dir, &target, req.force, &work.path)?;
    Ok(Imported { name, dir: target, sample_rate, window_length, parity })
}

fn source_size(path: &Path) -> u64 {
    if path.is_dir() { walk_size(path) } else { std::fs::metadata(path).map_or(0, |m| m.len()) }
}

fn walk_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() { walk_size(&p) } else { e.metadata().map_or(0, |m| m.len()) }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_named() {
        let e = std::io::Error::from_raw_os_error(28);
        let msg = io_words(&e, Path::new("/m")).to_string();
        assert!(msg.starts_with("the disk is full"), "{msg}");
        assert_eq!(disk_words("other"), "other");
    }
}
