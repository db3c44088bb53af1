//! Nothing half-installed: every import works in its own folder under `<data>/import-work/` (same
//! disk as the model folder), and the finished model moves into place with one rename. A work folder
//! left by an import that was killed is removed by the next one.

use super::ImportError;
use std::path::{Path, PathBuf};

/// An import's work folder; removed when dropped, whatever happened.
pub struct WorkDir {
    pub path: PathBuf,
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn work_root(data_dir: &Path) -> PathBuf {
    data_dir.join("import-work")
}

/// A fresh work folder, after removing those of imports no longer running.
pub fn work_dir(data_dir: &Path) -> Result<WorkDir, ImportError> {
    let root = work_root(data_dir);
    std::fs::create_dir_all(&root).map_err(|e| super::io_words(&e, &root))?;
    if let Ok(entries) = std::fs::read_dir(&root) {
        for entry in entries.flatten() {
            let owner = entry.file_name().to_string_lossy().split('-').next().and_then(|p| p.parse::<u32>().ok());
            if owner.is_some_and(|pid| !process_alive(pid)) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let path = root.join(format!("{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&path).map_err(|e| super::io_words(&e, &path))?;
    Ok(WorkDir { path })
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    // SAFETY: kill with signal 0 sends nothing; it only asks whether the process exists.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    true // unknown: keep it (it is only disk space)
}

/// Free bytes on the disk holding `dir` (its nearest existing ancestor); `None` where unknown.
#[cfg(unix)]
pub fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let existing = dir.ancestors().find(|d| d.exists())?;
    let c = std::ffi::CString::new(existing.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs is plain integers, for which all-zero bytes are a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a writable statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

#[cfg(not(unix))]
pub fn free_bytes(_dir: &Path) -> Option<u64> {
    None
}

/// Refuses to start when the disk cannot hold what the import will write.
pub fn check_space(needed: u64, free: Option<u64>, dir: &Path) -> Result<(), ImportError> {
    match free {
        Some(free) if free < needed => Err(ImportError::Failed(format!(
            "not enough free disk space at {}: the import needs about {}, {} is free",
            dir.display(),
            gb(needed),
            gb(free)
        ))),
        _ => Ok(()),
    }
}

pub fn gb(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GB", bytes as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.0} MB", (bytes as f64 / (1u64 << 20) as f64).ceil())
    }
}

/// Moves the finished `model` folder to `target`. With `replace`, an existing `target` is moved aside
/// first and deleted after; without it, an existing `target` is refused.
pub fn install(model: &Path, target: &Path, replace: bool, work: &Path) -> Result<(), ImportError> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| super::io_words(&e, parent))?;
    }
    let old = work.join("replaced");
    let had_old = target.exists();
    if had_old {
        if !replace {
            return Err(exists(target));
        }
        std::fs::rename(target, &old).map_err(|e| super::io_words(&e, target))?;
    }
    if let Err(e) = std::fs::rename(model, target) {
        if had_old {
            let _ = std::fs::rename(&old, target); // put the previous model back
        }
        return Err(super::io_words(&e, target));
    }
    Ok(())
}

pub fn exists(target: &Path) -> ImportError {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    ImportError::Failed(format!(
        "a model named '{name}' is already installed ({}): pass --force to replace it, or --name to import under another name",
        target.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_is_one_rename_and_refuses_or_replaces_an_existing_model() {
        let root = tempfile::tempdir().unwrap();
        let work = work_dir(root.path()).unwrap();
        let target = root.path().join("models").join("m");
        for (round, replace) in [(1, false), (2, false), (3, true)] {
            let model = work.path.join(format!("model{round}"));
            std::fs::create_dir_all(&model).unwrap();
            std::fs::write(model.join("manifest.json"), format!("{round}")).unwrap();
            let result = install(&model, &target, replace, &work.path);
            if round == 2 {
                assert!(result.unwrap_err().to_string().contains("--force"));
            } else {
                result.unwrap();
            }
        }
        assert_eq!(std::fs::read_to_string(target.join("manifest.json")).unwrap(), "3");
        let work_path = work.path.clone();
        drop(work);
        assert!(!work_path.exists(), "the work folder goes with the import");
    }

    #[test]
    fn stale_work_folders_are_cleared_and_space_is_checked() {
        let root = tempfile::tempdir().unwrap();
        let stale = work_root(root.path()).join("999999999-1");
        std::fs::create_dir_all(&stale).unwrap();
        let _work = work_dir(root.path()).unwrap();
        assert!(!stale.exists());
        assert!(free_bytes(root.path()).is_some_and(|b| b > 0));
        let msg = check_space(3 << 30, Some(1 << 30), Path::new("/d")).unwrap_err().to_string();
        assert_eq!(msg, "not enough free disk space at /d: the import needs about 3.0 GB, 1.0 GB is free");
        assert!(check_space(1, None, Path::new("/d")).is_ok());
    }
}
