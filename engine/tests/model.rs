//! Model and runtime loading failures, each a typed error with a message that says what to do.

use redance_engine::EngineError;
use redance_engine::model::{ModelSource, RuntimeSearch};
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
