//! A Triton model repository from a Redance model: `REPO/NAME/config.pbtxt` (inputs, outputs,
//! dynamic batching, instance groups, and the manifest's rate, window and weights hash as
//! `redance_*` parameters that the remote backend checks) and `REPO/NAME/1/model.onnx`.

use crate::error::{EngineError, Result};
use crate::model::{Manifest, ModelSource, Precision};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The `redance_*` model-configuration parameters: written here, checked by [`super::metadata`].
pub mod param {
    /// The model's sample rate in Hz.
    pub const SAMPLE_RATE: &str = "redance_sample_rate";
    /// Its channel count.
    pub const CHANNELS: &str = "redance_channels";
    /// Its trained window in samples.
    pub const WINDOW_LENGTH: &str = "redance_window_length";
    /// The multiple every input length must be.
    pub const LENGTH_MULTIPLE: &str = "redance_length_multiple";
    /// The sha256 of the served graph: the manifest's fp32 graph or one of its variants.
    pub const SHA256: &str = "redance_sha256";
}

/// Which Triton backend runs the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TritonBackend {
    /// Triton's onnxruntime backend (the NGC server images): serves the ONNX file directly.
    OnnxRuntime,
    /// Triton's Python backend with a model.py that runs the file with the onnxruntime package,
    /// for builds without the onnxruntime backend (PyPI's nvidia-pytriton; the tests). CPU only.
    Python,
}

/// How the repository entry serves the model.
#[derive(Debug, Clone)]
pub struct RepositoryOptions {
    /// Which Triton backend runs it.
    pub backend: TritonBackend,
    /// GPU instances, running the model's fp16 variant when it has one; else CPU instances (fp32).
    pub gpu: bool,
    /// Model instances (per GPU, or on the CPU).
    pub instances: usize,
    /// Most items in one model call (`max_batch_size`).
    pub max_batch: usize,
    /// Dynamic batching's longest wait for more requests, in µs; `None`: no dynamic batching.
    pub max_queue_delay_us: Option<u64>,
}

/// Most items in one server-side model call (Redance sends 1 per render window and call; several
/// renders, or windows sharing their times, fill the rest).
pub const DEFAULT_MAX_BATCH: usize = 8;
/// How long the dynamic batcher waits for another request: short next to a model call (tens of ms
/// and up), long enough for concurrent renders' calls to meet.
pub const DEFAULT_QUEUE_DELAY_US: u64 = 2_000;

impl Default for RepositoryOptions {
    fn default() -> Self {
        Self {
            backend: TritonBackend::OnnxRuntime,
            gpu: true,
            instances: 1,
            max_batch: DEFAULT_MAX_BATCH,
            max_queue_delay_us: Some(DEFAULT_QUEUE_DELAY_US),
        }
    }
}

/// The Python backend's model, beside model.onnx in the version folder.
const PYTHON_MODEL: &str = include_str!("triton_model.py");

/// Writes the repository entry for `source` under `repo` and returns its folder (`repo/NAME`).
pub fn write_repository(source: &ModelSource, repo: &Path, options: &RepositoryOptions) -> Result<PathBuf> {
    if options.gpu && options.backend == TritonBackend::Python {
        return Err(EngineError::Input("the Python backend runs the model on the CPU; leave out --gpu".into()));
    }
    if options.max_batch == 0 || options.instances == 0 {
        return Err(EngineError::Input("--max-batch and --instances must be at least 1".into()));
    }
    let (manifest, _) = source.manifest()?;
    if manifest.name.is_empty() || !manifest.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(EngineError::Input(format!(
            "model name '{}' cannot be a Triton model name (letters, digits, - _ . only)",
            manifest.name
        )));
    }
    let precision =
        if options.gpu && manifest.variants.contains_key("fp16") { Precision::Fp16 } else { Precision::Fp32 };
    let files = source.load_as(precision)?;
    let sha256 = sha256_of(&manifest, files.precision);
    let dir = repo.join(&manifest.name);
    let version = dir.join("1");
    let io = |what: &str, path: &Path, e: std::io::Error| {
        EngineError::Input(format!("cannot write {what} {} ({e})", path.display()))
    };
    std::fs::create_dir_all(&version).map_err(|e| io("the folder", &version, e))?;
    let onnx = version.join("model.onnx");
    std::fs::write(&onnx, &files.onnx).map_err(|e| io("the model", &onnx, e))?;
    if options.backend == TritonBackend::Python {
        let py = version.join("model.py");
        std::fs::write(&py, PYTHON_MODEL).map_err(|e| io("the Python model", &py, e))?;
    }
    let config = dir.join("config.pbtxt");
    std::fs::write(&config, config_pbtxt(&manifest, &sha256, files.precision, options))
        .map_err(|e| io("the configuration", &config, e))?;
    Ok(dir)
}

fn sha256_of(manifest: &Manifest, precision: Precision) -> String {
    match precision {
        Precision::Fp32 => manifest.sha256.clone(),
        Precision::Fp16 => manifest.variants["fp16"].sha256.clone(),
    }
}

/// The `redance_*` parameters for a served graph with this hash.
pub fn parameters(manifest: &Manifest, sha256: &str) -> Vec<(&'static str, String)> {
    vec![
        (param::SAMPLE_RATE, manifest.sample_rate.to_string()),
        (param::CHANNELS, manifest.channels.to_string()),
        (param::WINDOW_LENGTH, manifest.window_length.to_string()),
        (param::LENGTH_MULTIPLE, manifest.length_multiple.to_string()),
        (param::SHA256, sha256.to_owned()),
    ]
}

/// Triton's model configuration, protobuf text format.
pub fn config_pbtxt(manifest: &Manifest, sha256: &str, precision: Precision, options: &RepositoryOptions) -> String {
    let (backend, kind) = match (options.backend, options.gpu) {
        (TritonBackend::OnnxRuntime, true) => ("onnxruntime", "KIND_GPU"),
        (TritonBackend::OnnxRuntime, false) => ("onnxruntime", "KIND_CPU"),
        (TritonBackend::Python, _) => ("python", "KIND_CPU"),
    };
    let c = manifest.channels;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Written by `redance model serve-config`: model '{}' ({precision} graph), {}.",
        manifest.name, manifest.description
    );
    let _ = writeln!(s, "name: \"{}\"\nbackend: \"{backend}\"\nmax_batch_size: {}", manifest.name, options.max_batch);
    // The time input is one value per batch item: dims [1] reshaped to [] gives the graph its [batch].
    let _ = writeln!(
        s,
        "input [\n  {{ name: \"{}\" data_type: TYPE_FP32 dims: [ {c}, -1 ] }},\n  \
         {{ name: \"{}\" data_type: TYPE_FP32 dims: [ 1 ] reshape: {{ shape: [ ] }} }}\n]",
        manifest.inputs.audio, manifest.inputs.t
    );
    let _ = writeln!(s, "output [\n  {{ name: \"{}\" data_type: TYPE_FP32 dims: [ {c}, -1 ] }}\n]", manifest.output);
    if let Some(delay) = options.max_queue_delay_us {
        // Requests batch only with others of the same length, so every render window of one model
        // length can share a call.
        let _ = writeln!(s, "dynamic_batching {{ max_queue_delay_microseconds: {delay} }}");
    }
    let _ = writeln!(s, "instance_group [ {{ kind: {kind} count: {} }} ]", options.instances);
    let params: Vec<String> = parameters(manifest, sha256)
        .into_iter()
        .map(|(k, v)| format!("  {{ key: \"{k}\" value: {{ string_value: \"{v}\" }} }}"))
        .collect();
    let _ = writeln!(s, "parameters [\n{}\n]", params.join(",\n"));
    s
}

/// The configuration as Triton's `/config` endpoint returns it (the parts [`super::metadata`] reads).
#[cfg(test)]
pub fn config_json(manifest: &Manifest, sha256: &str, max_batch: usize, kind: &str) -> serde_json::Value {
    let parameters: serde_json::Map<String, serde_json::Value> = parameters(manifest, sha256)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), serde_json::json!({ "string_value": v })))
        .collect();
    serde_json::json!({ "max_batch_size": max_batch, "parameters": parameters, "instance_group": [{ "kind": kind }] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_config_and_graph() {
        let dir = tempfile::tempdir().unwrap();
        let model = write_repository(&ModelSource::Embedded, dir.path(), &RepositoryOptions::default()).unwrap();
        let (manifest, _) = ModelSource::Embedded.manifest().unwrap();
        assert_eq!(model, dir.path().join(&manifest.name));
        let config = std::fs::read_to_string(model.join("config.pbtxt")).unwrap();
        assert!(config.contains("backend: \"onnxruntime\""), "{config}");
        assert!(config.contains("kind: KIND_GPU"), "{config}");
        assert!(config.contains("dynamic_batching { max_queue_delay_microseconds: 2000 }"), "{config}");
        assert!(config.contains(&format!("string_value: \"{}\"", manifest.variants["fp16"].sha256)));
        let onnx = std::fs::read(model.join("1/model.onnx")).unwrap();
        assert_eq!(crate::model::sha256_hex(&onnx), manifest.variants["fp16"].sha256);
        assert!(!model.join("1/model.py").exists());
    }

    #[test]
    fn python_backend_on_the_cpu_serves_fp32_with_its_model_py() {
        let dir = tempfile::tempdir().unwrap();
        let options = RepositoryOptions {
            backend: TritonBackend::Python,
            gpu: false,
            max_queue_delay_us: None,
            ..Default::default()
        };
        let model = write_repository(&ModelSource::Embedded, dir.path(), &options).unwrap();
        let config = std::fs::read_to_string(model.join("config.pbtxt")).unwrap();
        assert!(config.contains("backend: \"python\"") && config.contains("KIND_CPU"), "{config}");
        assert!(!config.contains("dynamic_batching"), "{config}");
        let (manifest, _) = ModelSource::Embedded.manifest().unwrap();
        assert!(config.contains(&manifest.sha256));
        assert!(model.join("1/model.py").exists());
        let gpu_python = RepositoryOptions { gpu: true, ..options };
        assert!(write_repository(&ModelSource::Embedded, dir.path(), &gpu_python).is_err());
    }
}
