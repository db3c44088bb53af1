//! `redance model import|list|remove`: the user's model folder from a terminal (`serve-config`:
//! [`crate::serve_config`]). An import prints one line per phase; Ctrl-C cancels it and leaves
//! nothing installed; the tools' full output goes to `<data>/import.log`.

use crate::args::{ImportArgs, ModelCommand};
use redance_engine::ModelSource;
use redance_engine::import::{self, ImportError, ImportRequest, Progress};
use redance_engine::model::library;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub fn run(command: ModelCommand) -> Result<(), String> {
    let data_dir = library::default_data_dir();
    match command {
        ModelCommand::Import(args) => import(&args, &data_dir),
        ModelCommand::List => {
            list(&library::user_models_dir(&data_dir));
            Ok(())
        }
        ModelCommand::Remove { name } => {
            let dir = library::remove(&library::user_models_dir(&data_dir), &name)?;
            println!("removed {name} ({})", dir.display());
            Ok(())
        }
        ModelCommand::ServeConfig(args) => crate::serve_config::run(&args).map_err(|e| e.to_string()),
    }
}

/// `--model`: an existing path, else an installed model's name, else the path (whose error says
/// what is missing).
pub fn resolve(model: &Path) -> ModelSource {
    if !model.exists()
        && model.components().count() == 1
        && let Some(found) =
            library::find(&library::user_models_dir(&library::default_data_dir()), &model.to_string_lossy())
    {
        return ModelSource::Path(found.dir);
    }
    ModelSource::Path(model.to_owned())
}

fn list(dir: &Path) {
    let models = library::installed(dir);
    if models.is_empty() {
        println!("no models installed in {} (add one with `redance model import FILE.ckpt`)", dir.display());
        return;
    }
    let rows: Vec<[String; 6]> = models
        .iter()
        .map(|m| {
            [
                m.manifest.name.clone(),
                format!("{} Hz", m.manifest.sample_rate),
                format!(
                    "{} ({:.2} s)",
                    m.manifest.window_length,
                    m.manifest.window_length as f64 / m.manifest.sample_rate as f64
                ),
                format!("{:.1} MiB", m.size_bytes as f64 / (1u64 << 20) as f64),
                m.precisions(),
                m.dir.display().to_string(),
            ]
        })
        .collect();
    let header = ["NAME", "RATE", "WINDOW", "SIZE", "PRECISION", "PATH"].map(String::from);
    let width = |i: usize| std::iter::once(&header).chain(&rows).map(|r| r[i].chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..6).map(width).collect();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", cells.join("  ").trim_end());
    }
}

fn import(args: &ImportArgs, data_dir: &Path) -> Result<(), String> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
        .map_err(|e| format!("cannot watch for Ctrl-C ({e})"))?;
    let request = ImportRequest {
        source: args.source.clone(),
        name: args.name.clone(),
        force: args.force,
        wheels: args.wheels.clone(),
        sample_rate: args.rate,
        window_length: args.window,
        data_dir: data_dir.to_owned(),
        env_dir: std::env::var_os("REDANCE_IMPORT_ENV").filter(|d| !d.is_empty()).map(Into::into),
    };
    let log_path = data_dir.join("import.log");
    let mut log = std::fs::create_dir_all(data_dir).and_then(|_| std::fs::File::create(&log_path)).ok();
    let started = std::time::Instant::now();
    let result = import::run(&request, &cancel, &mut |p| match p {
        Progress::Phase(n, of, what) => println!("[{n}/{of}] {what}"),
        Progress::Note(text) => println!("      {text}"),
        Progress::Log(line) => {
            if let Some(f) = log.as_mut() {
                let _ = writeln!(f, "{line}");
            }
        }
    });
    match result {
        Ok(done) => {
            println!(
                "installed {} ({} Hz, window {}) in {:.0} s: {}",
                done.name,
                done.sample_rate,
                done.window_length,
                started.elapsed().as_secs_f64(),
                done.dir.display()
            );
            println!("render with it: redance render --model {} -i IN.wav -o OUT.wav", done.name);
            Ok(())
        }
        Err(ImportError::Cancelled) => {
            eprintln!("redance: {}", ImportError::Cancelled);
            std::process::exit(130);
        }
        Err(e) if log.is_some() && log_path.metadata().is_ok_and(|m| m.len() > 0) => {
            Err(format!("{e} (the tools' output is in {})", log_path.display()))
        }
        Err(e) => Err(e.to_string()),
    }
}
