//! The import's private Python: the system's `python3` for the pre-check (standard library only),
//! and a virtual environment under the data folder with torch, diffusers and ONNX for the
//! conversion, made once and reused while its requirements stay the same.

use super::{ImportError, Reporter, child};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

/// What the conversion needs, installed with pip. Lower bounds are the versions the exporter was
/// written against (models/README.md, "Versions used" has the tested set).
pub const REQUIREMENTS: &[&str] =
    &["torch>=2.6", "diffusers>=0.32", "onnx>=1.17", "onnxscript>=0.2", "onnxruntime>=1.20", "numpy>=1.26"];

/// PyTorch's CPU-only wheels (a few hundred MB instead of PyPI's build with CUDA libraries, several GB).
/// `REDANCE_TORCH_INDEX_URL` replaces it (a mirror); set empty, only PyPI (or pip's own settings) is used.
const TORCH_CPU_INDEX: &str = "https://download.pytorch.org/whl/cpu";

/// Written into the environment once pip has installed everything; its content says what.
const READY_FILE: &str = "redance-ready.txt";

/// The interpreter that makes the environment: `REDANCE_PYTHON`, else `python3` on PATH.
pub fn system_python() -> Result<PathBuf, ImportError> {
    let candidate = std::env::var_os("REDANCE_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(if cfg!(windows) { "python" } else { "python3" }));
    let out = Command::new(&candidate)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .map_err(|_| no_python(&candidate))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (major, minor) = version.split_once('.').unwrap_or(("0", "0"));
    let ok = out.status.success() && major == "3" && minor.parse::<u32>().is_ok_and(|m| m >= 9);
    if !ok {
        return Err(ImportError::Failed(format!(
            "{} is not Python 3.9 or newer (it says '{version}'); install Python 3 or set REDANCE_PYTHON",
            candidate.display()
        )));
    }
    Ok(candidate)
}

fn no_python(candidate: &Path) -> ImportError {
    ImportError::Failed(format!(
        "Python 3 was not found ({} cannot be run). Importing a checkpoint converts it with PyTorch, which \
         needs Python 3.9 or newer: install it (Debian/Ubuntu: sudo apt install python3 python3-venv; \
         macOS/Windows: python.org), or set REDANCE_PYTHON to its path",
        candidate.display()
    ))
}

/// The environment's interpreter.
pub fn env_python(env: &Path) -> PathBuf {
    if cfg!(windows) { env.join("Scripts").join("python.exe") } else { env.join("bin").join("python") }
}

/// What the ready file holds: the requirements (where the wheels came from does not matter).
fn requirements_stamp() -> String {
    REQUIREMENTS.join("\n") + "\n"
}

/// Whether `env` already has everything (made by an earlier import).
pub fn is_ready(env: &Path) -> bool {
    env_python(env).exists() && std::fs::read_to_string(env.join(READY_FILE)).is_ok_and(|s| s == requirements_stamp())
}

/// Makes `env` (venv + pip install) unless it is ready. One progress note per pip step.
pub fn ensure_env(
    python: &Path,
    env: &Path,
    wheels: Option<&Path>,
    cancel: &AtomicBool,
    report: &mut Reporter,
) -> Result<(), ImportError> {
    if is_ready(env) {
        report.note(&format!("using the Python environment at {}", env.display()));
        return Ok(());
    }
    if let Some(dir) = wheels
        && !dir.is_dir()
    {
        return Err(ImportError::Failed(format!("--wheels {}: no such folder", dir.display())));
    }
    if !env_python(env).exists() {
        let venv_ok =
            Command::new(python).args(["-c", "import venv, ensurepip"]).output().is_ok_and(|o| o.status.success());
        if !venv_ok {
            return Err(ImportError::Failed(format!(
                "{} has no venv/pip support, which the import needs for its own environment: install it \
                 (Debian/Ubuntu: sudo apt install python3-venv python3-pip)",
                python.display()
            )));
        }
        report.note(&format!("creating a Python environment at {} (once)", env.display()));
        if let Some(parent) = env.parent() {
            std::fs::create_dir_all(parent).map_err(|e| super::io_words(&e, parent))?;
        }
        let mut cmd = Command::new(python);
        cmd.arg("-m").arg("venv").arg(env);
        let out = child::run(cmd, "python3 -m venv", cancel, &mut |_| {})?;
        if !out.success {
            return Err(ImportError::Failed(format!(
                "could not create the Python environment at {}: {}",
                env.display(),
                super::disk_words(&out.tail(3))
            )));
        }
    }
    let pip = |args: &[&str]| {
        let mut cmd = Command::new(env_python(env));
        cmd.args(["-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]).args(args);
        cmd
    };
    let offline: Vec<String> = match wheels {
        Some(dir) => vec!["--no-index".into(), "--find-links".into(), dir.display().to_string()],
        None => Vec::new(),
    };
    let offline: Vec<&str> = offline.iter().map(String::as_str).collect();
    report.note("installing PyTorch (the largest download; several minutes the first time)");
    let torch_index = std::env::var("REDANCE_TORCH_INDEX_URL").unwrap_or_else(|_| TORCH_CPU_INDEX.into());
    let mut torch_args: Vec<&str> = offline.clone();
    if wheels.is_none() && !torch_index.is_empty() {
        // Asked first, briefly: pip would wait minutes on an index that does not answer.
        if answers(&env_python(env), &torch_index, cancel)? {
            // An extra index: its "+cpu" builds win over PyPI's (a higher local version).
            torch_args.extend(["--extra-index-url", &torch_index]);
        } else {
            report.note(&format!(
                "{torch_index} did not answer: torch comes from PyPI (larger: it brings CUDA libraries)"
            ));
        }
    }
    torch_args.push(REQUIREMENTS[0]);
    pip_step(pip(&torch_args), wheels, cancel, report)?;
    report.note("installing diffusers, ONNX and ONNX Runtime");
    let mut rest: Vec<&str> = offline.clone();
    rest.extend(&REQUIREMENTS[1..]);
    pip_step(pip(&rest), wheels, cancel, report)?;
    std::fs::write(env.join(READY_FILE), requirements_stamp()).map_err(|e| super::io_words(&e, env))?;
    Ok(())
}

/// Whether `index` answers within 10 s (through the same proxy settings pip uses).
fn answers(python: &Path, index: &str, cancel: &AtomicBool) -> Result<bool, ImportError> {
    let mut cmd = Command::new(python);
    cmd.args(["-c", "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)"])
        .arg(format!("{}/torch/", index.trim_end_matches('/')));
    Ok(child::run(cmd, "Python", cancel, &mut |_| {})?.success)
}

fn pip_step(
    cmd: Command,
    wheels: Option<&Path>,
    cancel: &AtomicBool,
    report: &mut Reporter,
) -> Result<(), ImportError> {
    let out = child::run(cmd, "pip", cancel, &mut |line| report.log(line))?;
    if out.success {
        return Ok(());
    }
    Err(ImportError::Failed(explain_pip_failure(&out.lines, wheels)))
}

/// pip's failure in plain words: no index, wheels missing from --wheels, a full disk, or its own last
/// lines.
pub fn explain_pip_failure(lines: &[String], wheels: Option<&Path>) -> String {
    let text = lines.join("\n");
    let last = lines.iter().rev().find(|l| l.contains("ERROR")).or(lines.last()).cloned().unwrap_or_default();
    let disk = super::disk_words(&text);
    if disk != text {
        return format!("pip could not install the conversion's packages: {disk}");
    }
    let missing = text.contains("No matching distribution") || text.contains("Could not find a version");
    match wheels {
        Some(dir) if missing => format!(
            "the wheels in {} do not have everything the conversion needs ({}); it needs {} and their dependencies \
             (`pip download {} -d DIR` on a machine with internet)",
            dir.display(),
            last.trim_start_matches("ERROR: "),
            REQUIREMENTS.join(" "),
            REQUIREMENTS.join(" ")
        ),
        None if missing
            || [
                "NewConnectionError",
                "Failed to establish",
                "Could not fetch URL",
                "Temporary failure in name resolution",
                "ProxyError",
                "timed out",
                "Network is unreachable",
            ]
            .iter()
            .any(|n| text.contains(n)) =>
        {
            format!(
                "pip could not reach the package index to install PyTorch and ONNX ({}). Check the internet \
                 connection (or pip's proxy/index settings); on a machine without internet, download the wheels \
                 elsewhere (`pip download {} -d DIR`) and pass --wheels DIR",
                last.trim_start_matches("ERROR: "),
                REQUIREMENTS.join(" ")
            )
        }
        _ => format!("pip failed to install the conversion's packages: {}", last.trim_start_matches("ERROR: ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(String::from).collect()
    }

    #[test]
    fn pip_failures_are_told_in_plain_words() {
        let unreachable = lines(
            "WARNING: Retrying ... NewConnectionError: Failed to establish a new connection\nERROR: Could not find a version that satisfies the requirement torch>=2.6 (from versions: none)\nERROR: No matching distribution found for torch>=2.6",
        );
        let msg = explain_pip_failure(&unreachable, None);
        assert!(msg.contains("could not reach the package index") && msg.contains("--wheels DIR"), "{msg}");
        let msg = explain_pip_failure(&unreachable, Some(Path::new("/w")));
        assert!(msg.contains("the wheels in /w do not have everything"), "{msg}");
        let full = lines("ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device");
        assert!(explain_pip_failure(&full, None).contains("disk is full"));
        let other = lines("ERROR: something else");
        assert_eq!(
            explain_pip_failure(&other, None),
            "pip failed to install the conversion's packages: something else"
        );
    }
}
