//! The `redance` binary: bad input gets a one-line error and a non-zero exit with no file left
//! behind; a real render (runtime + built-in model) writes the WAV and the plot.

use redance_engine::Audio;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn redance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redance")).args(args).output().expect("runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write_clip(dir: &Path, name: &str, frames: usize, rate: u32) -> PathBuf {
    let path = dir.join(name);
    let ch: Vec<f32> = (0..frames).map(|i| (i as f32 * 0.05).sin() * 0.4).collect();
    Audio::new(rate, vec![ch.clone(), ch]).unwrap().write_wav(&path).unwrap();
    path
}

/// A failed run: exit 1, exactly one line on stderr containing `needle`, and no output file.
fn assert_refused(args: &[&str], out: &Path, needle: &str) {
    let o = redance(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "'{err}' should mention '{needle}'");
    assert!(!out.exists(), "no partial output");
}

#[test]
fn bad_inputs_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.wav");
    let o = out.to_str().unwrap();

    let text = dir.path().join("text.wav");
    std::fs::write(&text, "this is not audio").unwrap();
    assert_refused(&["render", "-i", text.to_str().unwrap(), "-o", o], &out, "not a readable WAV");

    let empty = dir.path().join("empty.wav");
    Audio::new(48_000, vec![vec![], vec![]]).unwrap().write_wav(&empty).unwrap();
    assert_refused(&["render", "-i", empty.to_str().unwrap(), "-o", o], &out, "empty");

    let nan = dir.path().join("nan.wav");
    Audio::new(48_000, vec![vec![0.0, f32::NAN, 0.0]]).unwrap().write_wav(&nan).unwrap();
    assert_refused(&["render", "-i", nan.to_str().unwrap(), "-o", o], &out, "NaN");

    let clip = write_clip(dir.path(), "clip.wav", 4800, 48_000);
    let c = clip.to_str().unwrap();
    assert_refused(&["render", "-i", c, "-o", o, "--strength", "1.5"], &out, "strength");
    assert_refused(&["render", "-i", c, "-o", o, "--model", "/nonexistent"], &out, "manifest");
    assert_refused(&["render", "-i", c, "-o", o, "--ort", "/nonexistent/lib.so"], &out, "fetch-ort");
    assert_refused(&["render", "-i", c, "-o", o, "--mode", "interpolate"], &out, "--with");
    assert_refused(&["render", "-o", o, "--mode", "generate"], &out, "--length");
    assert_refused(&["render", "-i", c, "-o", o, "--steps", "0"], &out, "steps");
    let nowhere = "/nonexistent/dir/out.wav";
    assert_refused(&["render", "-i", c, "-o", nowhere, "--strength", "0"], Path::new(nowhere), "cannot create");

    // Unknown flag values are clap's usage errors: exit 2.
    let o2 = redance(&["render", "-i", c, "-o", o, "--sampler", "euler"]);
    assert_eq!(o2.status.code(), Some(2));
    assert!(stderr(&o2).contains("euler"));
    assert!(!out.exists());
}

#[test]
fn strength_zero_at_the_model_rate_copies_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let clip = write_clip(dir.path(), "clip.wav", 4800, 48_000);
    let out = dir.path().join("out.wav");
    let o = redance(&["render", "-i", clip.to_str().unwrap(), "-o", out.to_str().unwrap(), "--strength", "0"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(Audio::read_wav(&out).unwrap(), Audio::read_wav(&clip).unwrap());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("real-time factor"), "{stdout}");
}

#[test]
fn renders_a_variation_with_the_built_in_model_and_plots_it() {
    let dir = tempfile::tempdir().unwrap();
    let clip = write_clip(dir.path(), "clip.wav", 22_050, 44_100);
    let out = dir.path().join("out.wav");
    let plot = dir.path().join("out.png");
    let args =
        ["render", "-i", clip.to_str().unwrap(), "-o", out.to_str().unwrap(), "--steps", "6", "--strength", "0.4"];
    let o = redance(&[&args[..], &["--seed", "3", "--plot", plot.to_str().unwrap(), "--provider", "cpu"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let audio = Audio::read_wav(&out).unwrap();
    assert_eq!((audio.sample_rate, audio.frames(), audio.num_channels()), (44_100, 22_050, 2));
    assert!(audio.first_non_finite().is_none());
    assert!(std::fs::metadata(&plot).unwrap().len() > 1000);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("on CPU") && stdout.contains("real-time factor"), "{stdout}");
}

#[test]
fn cuda_requested_without_cuda_falls_back_to_cpu_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let clip = write_clip(dir.path(), "clip.wav", 4800, 48_000);
    let out = dir.path().join("out.wav");
    let o = redance(&[
        "render",
        "-i",
        clip.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--steps",
        "3",
        "--provider",
        "cuda",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("CUDA not used"), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("on CPU"));
}

#[test]
fn fp16_runs_the_variant_and_a_model_without_one_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let clip = write_clip(dir.path(), "clip.wav", 4800, 48_000);
    let out = dir.path().join("out.wav");
    let args = ["render", "-i", clip.to_str().unwrap(), "-o", out.to_str().unwrap(), "--steps", "3"];
    let o = redance(&[&args[..], &["--provider", "cpu", "--precision", "fp16"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("on CPU fp16"), "{}", String::from_utf8_lossy(&o.stdout));

    // A model folder without the variant: fp32, and the reason.
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/default");
    std::fs::copy(root.join("model.onnx"), model.join("model.onnx")).unwrap();
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("manifest.json")).unwrap()).unwrap();
    m.as_object_mut().unwrap().remove("variants");
    std::fs::write(model.join("manifest.json"), m.to_string()).unwrap();
    let o = redance(
        &[&args[..], &["--provider", "cpu", "--precision", "fp16", "--model", model.to_str().unwrap()]].concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("no fp16 variant"), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("on CPU:"), "{}", String::from_utf8_lossy(&o.stdout));
}
