//! Model and runtime loading failures, each a typed error with a message that says what to do.

use redance_engine::EngineError;
use redance_engine::model::{ModelSource, Precision, RuntimeSearch};
use std::path::Path;

fn manifest(dir: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let mut m: serde_json::Value = serde_json::from_str(include_str!("../../models/default/manifest.json")).unwrap();
    edit(&mut m);
    std::fs::write(dir.join("manifest.json"), m.to_string()).unwrap();
}

fn load_err(dir: &Path) -> String {
    match ModelSource::Path(dir.to_owned()).load() {
        Ok(_) => panic!("should fail"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_folder_or_manifest() {
    let err = load_err(Path::new("/nonexistent/model"));
    assert!(err.contains("manifest") && err.contains("cannot be read"), "{err}");
}

#[test]
fn manifest_that_is_not_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("manifest.json"), "{ nope").unwrap();
    assert!(load_err(dir.path()).contains("not a valid manifest"));
}

#[test]
fn manifest_with_wrong_objective_or_shape() {
    let dir = tempfile::tempdir().unwrap();
    manifest(dir.path(), |m| m["objective"] = "eps".into());
    assert!(load_err(dir.path()).contains("objective 'eps'"));
    manifest(dir.path(), |m| m["window_length"] = 1000.into());
    assert!(load_err(dir.path()).contains("not a multiple"));
    manifest(dir.path(), |m| m["format"] = 9.into());
    assert!(load_err(dir.path()).contains("format 9"));
}

#[test]
fn missing_onnx_file() {
    let dir = tempfile::tempdir().unwrap();
    manifest(dir.path(), |_| {});
    let err = load_err(dir.path());
    assert!(err.contains("model.onnx") && err.contains("cannot be read"), "{err}");
}

#[test]
fn damaged_onnx_file_fails_the_hash_check() {
    let dir = tempfile::tempdir().unwrap();
    manifest(dir.path(), |_| {});
    std::fs::write(dir.path().join("model.onnx"), b"not a model").unwrap();
    let err = load_err(dir.path());
    assert!(err.contains("damaged"), "{err}");
}

#[test]
fn embedded_default_model_verifies() {
    let files = ModelSource::Embedded.load().unwrap();
    assert_eq!(files.manifest.objective, "v");
    assert_eq!(files.manifest.channels, 2);
}

#[test]
fn explicit_runtime_path_that_does_not_exist_is_an_error_not_a_panic() {
    let search = RuntimeSearch { explicit: Some("/nonexistent/libonnxruntime.so".into()), ..Default::default() };
    let err = search.load().unwrap_err();
    assert!(matches!(err, EngineError::RuntimeMissing { .. }));
    let msg = err.to_string();
    assert!(msg.contains("/nonexistent") && msg.contains("cargo xtask fetch-ort"), "{msg}");
}

#[test]
fn a_file_that_is_not_a_runtime_is_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("libonnxruntime.so");
    std::fs::write(&fake, b"\x7fELF not really").unwrap();
    let search = RuntimeSearch { explicit: Some(fake), ..Default::default() };
    let err = search.load().unwrap_err().to_string();
    assert!(err.contains("could not be loaded"), "{err}");
}

fn copy_default_onnx(dir: &Path) {
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/default/model.onnx"), dir.join("model.onnx"))
        .unwrap();
}

fn model_folder_with_variant(dir: &Path, fp16: &[u8], sha: &str) {
    manifest(dir, |m| m["variants"] = serde_json::json!({"fp16": {"onnx": "model.fp16.onnx", "sha256": sha}}));
    copy_default_onnx(dir);
    std::fs::write(dir.join("model.fp16.onnx"), fp16).unwrap();
}

#[test]
fn the_built_in_model_has_an_fp16_variant() {
    let files = ModelSource::Embedded.load_as(Precision::Fp16).unwrap();
    assert_eq!(files.precision, Precision::Fp16);
    assert!(files.note.is_none());
    assert!(files.onnx.len() < ModelSource::Embedded.load().unwrap().onnx.len());
}

#[test]
fn a_model_without_fp16_runs_fp32_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    manifest(dir.path(), |m| m.as_object_mut().unwrap().remove("variants").map(drop).unwrap_or(()));
    copy_default_onnx(dir.path());
    let files = ModelSource::Path(dir.path().to_owned()).load_as(Precision::Fp16).unwrap();
    assert_eq!(files.precision, Precision::Fp32);
    let note = files.note.unwrap();
    assert!(note.contains("no fp16 variant") && note.contains("convert_fp16.py"), "{note}");
}

#[test]
fn a_damaged_fp16_variant_fails_the_hash_check() {
    let dir = tempfile::tempdir().unwrap();
    model_folder_with_variant(dir.path(), b"not a model", &"ab".repeat(32));
    let err = match ModelSource::Path(dir.path().to_owned()).load_as(Precision::Fp16) {
        Ok(_) => panic!("should fail"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("model.fp16.onnx") && err.contains("damaged"), "{err}");
    // The fp32 graph of the same folder still loads.
    assert_eq!(ModelSource::Path(dir.path().to_owned()).load().unwrap().precision, Precision::Fp32);
}

#[test]
fn a_variant_hash_that_is_not_hex_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    model_folder_with_variant(dir.path(), b"x", "nope");
    assert!(load_err(dir.path()).contains("variant 'fp16'"));
}
