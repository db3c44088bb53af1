//! Finding and loading the ONNX Runtime shared library. ort is built with `load-dynamic`, so nothing
//! links against ONNX Runtime: the library is found here, in a fixed order, and handed to
//! `ort::init_from` before any other ort call. A missing library is an error value, never a panic.

use crate::error::{EngineError, Result};
use parking_lot::Mutex;
use std::path::{Path, PathBuf};

/// The library file names tried in each folder, most specific first.
const LIB_NAMES: [&str; 3] = ["libonnxruntime.so", "libonnxruntime.so.1", "libonnxruntime.so.1.32.0"];

/// Where `cargo xtask fetch-ort` puts the runtime (relative to the workspace's `target/`).
pub const FETCHED_DIR_CPU: &str = "onnxruntime/cpu";
pub const FETCHED_DIR_GPU: &str = "onnxruntime/gpu";

/// The places to look, in order: an explicit path, `ORT_DYLIB_PATH`, beside the plugin or binary,
/// the project's `target/`, then the system's library path. An explicit path is the only place
/// looked at: a user who names a library wants that one, not a silent substitute.
#[derive(Debug, Clone, Default)]
pub struct RuntimeSearch {
    /// From a CLI flag or a setting; a file or a folder.
    pub explicit: Option<PathBuf>,
    /// Prefer the GPU build fetched into `target/` when both are there.
    pub prefer_gpu: bool,
}

/// The loaded runtime: one per process (ONNX Runtime's environment is global).
#[derive(Debug, Clone)]
pub struct Runtime {
    /// The library file.
    pub path: PathBuf,
    /// Its version, as it reports it.
    pub version: String,
}

static LOADED: Mutex<Option<Runtime>> = Mutex::new(None);
static ENVIRONMENT: std::sync::OnceLock<ort::environment::Environment> = std::sync::OnceLock::new();

impl RuntimeSearch {
    /// Candidate library files in search order, with a label for each for error messages.
    pub fn candidates(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut push_dir_or_file = |p: &Path| {
            if p.is_dir() {
                out.extend(LIB_NAMES.iter().map(|n| p.join(n)));
            } else {
                out.push(p.to_owned());
            }
        };
        if let Some(p) = &self.explicit {
            push_dir_or_file(p);
            return out;
        }
        if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
            push_dir_or_file(Path::new(&p));
        }
        for dir in [own_module_dir(), std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_owned))]
            .into_iter()
            .flatten()
        {
            push_dir_or_file(&dir);
            push_dir_or_file(&dir.join("onnxruntime"));
        }
        let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
        let (first, second) =
            if self.prefer_gpu { (FETCHED_DIR_GPU, FETCHED_DIR_CPU) } else { (FETCHED_DIR_CPU, FETCHED_DIR_GPU) };
        push_dir_or_file(&target.join(first));
        push_dir_or_file(&target.join(second));
        out
    }

    /// Loads the first library found (once per process; later calls return the loaded one).
    pub fn load(&self) -> Result<Runtime> {
        let candidates = self.candidates();
        let found = candidates.iter().find(|p| p.is_file()).cloned();
        let mut loaded = LOADED.lock();
        if let Some(rt) = loaded.as_ref() {
            if self.explicit.is_some() && found.is_none() {
                return Err(EngineError::RuntimeMissing { searched: display_list(&candidates) });
            }
            return Ok(rt.clone());
        }
        // Last resort: the system's library path, through the dynamic loader's own search.
        let path = match found {
            Some(p) => p,
            None if self.explicit.is_none() && system_has_runtime() => PathBuf::from("libonnxruntime.so"),
            None => {
                let mut searched = display_list(&candidates);
                if self.explicit.is_none() {
                    searched.push_str(", the system library path");
                }
                return Err(EngineError::RuntimeMissing { searched });
            }
        };
        // ort keeps the first library it loads for the life of the process.
        let builder = ort::init_from(&path)
            .map_err(|e| EngineError::RuntimeLoad { path: path.clone(), reason: e.to_string() })?;
        // The environment must outlive every session; ort only keeps a weak reference to it. A second
        // environment in one process is refused by ort, which only means another component built it.
        if let Ok(env) = builder.with_name("redance").build() {
            let _ = ENVIRONMENT.set(env);
        }
        let version = runtime_version();
        let rt = Runtime { path: std::fs::canonicalize(&path).unwrap_or(path), version };
        *loaded = Some(rt.clone());
        Ok(rt)
    }

    /// The runtime loaded so far, if any.
    pub fn loaded() -> Option<Runtime> {
        LOADED.lock().clone()
    }
}

/// The folders searched, once each, for an error message.
fn display_list(candidates: &[PathBuf]) -> String {
    let mut dirs: Vec<String> = Vec::new();
    for c in candidates {
        let d = c.parent().map_or_else(|| c.display().to_string(), |p| p.display().to_string());
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    format!("libonnxruntime.so in {}", dirs.join(", "))
}

fn runtime_version() -> String {
    // "ORT Build Info: git-branch=rel-1.32.0, …": the branch names the version.
    let info = ort::info();
    info.split([',', ' ']).find_map(|part| part.strip_prefix("git-branch=rel-")).unwrap_or("unknown").to_string()
}

fn system_has_runtime() -> bool {
    // SAFETY: dlopen/dlclose on a plain library name; RTLD_NOLOAD is not used so this may load it,
    // which is what we are about to do anyway.
    unsafe {
        let name = c"libonnxruntime.so";
        let h = libc::dlopen(name.as_ptr(), libc::RTLD_LAZY | libc::RTLD_LOCAL);
        if h.is_null() {
            return false;
        }
        libc::dlclose(h);
        true
    }
}

/// The folder of the shared object this code lives in: the plugin's `.so` inside its bundle, or the
/// executable. Lets a bundle carry its runtime beside itself.
fn own_module_dir() -> Option<PathBuf> {
    // SAFETY: Dl_info is a C struct of pointers and integers, for which all zeroes is a valid value.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables for an address inside this module.
    let ok = unsafe { libc::dladdr(own_module_dir as *const libc::c_void, &mut info) };
    if ok == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the loader.
    let name = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    use std::os::unix::ffi::OsStrExt;
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes()));
    path.parent().map(Path::to_owned)
}

/// The process's ONNX Runtime environment, once the runtime is loaded.
pub(crate) fn environment() -> Option<&'static ort::environment::Environment> {
    ENVIRONMENT.get()
}
