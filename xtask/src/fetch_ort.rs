//! Fetches ONNX Runtime from PyPI's `onnxruntime` wheel (`onnxruntime-gpu` with `--gpu`) with pip, and
//! unpacks its shared libraries into `target/onnxruntime/{cpu,gpu}/`. A no-op when already there.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned runtime versions. ort 2.0.0-rc.15 loads both.
const CPU_WHEEL: &str = "onnxruntime==1.32.0";
const GPU_WHEEL: &str = "onnxruntime-gpu==1.31.1";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

pub fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let gpu = args.iter().any(|a| a == "--gpu");
    let (wheel, dir) = if gpu { (GPU_WHEEL, "gpu") } else { (CPU_WHEEL, "cpu") };
    let out = workspace_root().join("target/onnxruntime").join(dir);
    let stamp = out.join(".fetched");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == wheel) && out.join("libonnxruntime.so").exists() {
        println!("ONNX Runtime ({wheel}) already in {}", out.display());
        return Ok(());
    }
    let download = workspace_root().join("target/onnxruntime/wheels");
    std::fs::create_dir_all(&download)?;
    println!("Fetching {wheel} from PyPI with pip …");
    let status = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet", "-d"])
        .arg(&download)
        .arg(wheel)
        .status()
        .map_err(|e| format!("cannot run python3 -m pip ({e}); install Python 3 with pip"))?;
    if !status.success() {
        return Err(format!("pip could not download {wheel}").into());
    }
    let name = wheel.split("==").next().unwrap_or(wheel).replace('-', "_");
    let version = wheel.split("==").nth(1).unwrap_or_default();
    let whl = std::fs::read_dir(&download)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let f = p.file_name().unwrap_or_default().to_string_lossy().to_string();
            f.starts_with(&format!("{name}-{version}-")) && f.ends_with(".whl")
        })
        .ok_or_else(|| format!("pip left no {name} {version} wheel in {}", download.display()))?;
    std::fs::create_dir_all(&out)?;
    // A wheel is a zip file; Python's zipfile unpacks it without another dependency.
    let script = r#"
import sys, zipfile, os, shutil
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        base = os.path.basename(n)
        if n.startswith("onnxruntime/capi/") and base.startswith("lib") and ".so" in base:
            with z.open(n) as src, open(os.path.join(out, base), "wb") as dst:
                shutil.copyfileobj(src, dst)
            print("  " + base)
"#;
    let status = Command::new("python3").arg("-c").arg(script).arg(&whl).arg(&out).status()?;
    if !status.success() {
        return Err(format!("could not unpack {}", whl.display()).into());
    }
    let versioned = std::fs::read_dir(&out)?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .find(|f| f.starts_with("libonnxruntime.so.1."))
        .ok_or("the wheel holds no libonnxruntime.so.1.*")?;
    for link in ["libonnxruntime.so", "libonnxruntime.so.1"] {
        let path = out.join(link);
        let _ = std::fs::remove_file(&path);
        std::os::unix::fs::symlink(&versioned, &path)?;
    }
    std::fs::write(&stamp, wheel)?;
    println!("ONNX Runtime ready: {}", out.join(&versioned).display());
    Ok(())
}

/// Puts the fetched CPU runtime beside the plugin inside the VST3 bundle, so an installed bundle finds
/// it with nothing else set up. (A CLAP is a single file: it finds the runtime through
/// `ORT_DYLIB_PATH`, this project's `target/`, or the system.)
pub fn copy_into_bundles() -> Result<(), Box<dyn std::error::Error>> {
    let root = workspace_root();
    let runtime = root.join("target/onnxruntime/cpu");
    let arch_dir = root.join("target/bundled/Redance.vst3/Contents/x86_64-linux");
    if !arch_dir.is_dir() || !runtime.join("libonnxruntime.so").exists() {
        return Ok(());
    }
    let real = std::fs::canonicalize(runtime.join("libonnxruntime.so"))?;
    std::fs::copy(&real, arch_dir.join("libonnxruntime.so"))?;
    println!("Copied ONNX Runtime into {}", arch_dir.display());
    Ok(())
}
