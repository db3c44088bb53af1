//! What a Triton server says about a model (KServe v2 model metadata, and Triton's model
//! configuration with the `redance_*` parameters that `redance model serve-config` writes), checked
//! against the model's manifest before any audio is sent: names, shapes, rate, window and weights.

use super::repository::param;
use crate::model::Manifest;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `GET /v2/models/NAME` (KServe v2 model metadata).
#[derive(Debug, Deserialize)]
pub struct ModelMetadata {
    /// The model's name on the server.
    pub name: String,
    /// Its inputs.
    #[serde(default)]
    pub inputs: Vec<TensorMetadata>,
    /// Its outputs.
    #[serde(default)]
    pub outputs: Vec<TensorMetadata>,
}

/// One input or output of a served model.
#[derive(Debug, Deserialize)]
pub struct TensorMetadata {
    /// Its name.
    pub name: String,
    /// Its element type ("FP32").
    pub datatype: String,
    /// -1 for a variable dimension; the batch dimension comes first when the model batches.
    pub shape: Vec<i64>,
}

/// `GET /v2/models/NAME/config` (Triton's extension), the parts Redance reads.
#[derive(Debug, Default, Deserialize)]
pub struct ModelConfig {
    /// Most items in one request (0: the model does not batch).
    #[serde(default)]
    pub max_batch_size: usize,
    /// Free-form parameters (Redance's `redance_*`).
    #[serde(default)]
    pub parameters: BTreeMap<String, Parameter>,
    /// Where the model's instances run.
    #[serde(default)]
    pub instance_group: Vec<InstanceGroup>,
}

/// A configuration parameter's value.
#[derive(Debug, Deserialize)]
pub struct Parameter {
    /// The value, as text.
    #[serde(default)]
    pub string_value: String,
}

/// A group of model instances.
#[derive(Debug, Deserialize)]
pub struct InstanceGroup {
    /// `KIND_GPU` or `KIND_CPU`.
    #[serde(default)]
    pub kind: String,
}

/// How to talk to a model the server serves, once it passed [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// Rank of the time input as served: 1 (`[batch]`) or 2 (`[batch, 1]`, Triton's usual reshape).
    pub t_rank: usize,
    /// Most items in one request (`max_batch_size`; at least 1).
    pub max_batch: usize,
    /// Where it runs, in words ("GPU fp16").
    pub device: String,
}

/// Compares the served model with `manifest`. Errors say what differs, in words.
pub fn check(manifest: &Manifest, metadata: &ModelMetadata, config: &ModelConfig) -> Result<Served, String> {
    fn find<'a>(list: &'a [TensorMetadata], name: &str, what: &str, model: &str) -> Result<&'a TensorMetadata, String> {
        list.iter().find(|t| t.name == name).ok_or_else(|| {
            let names: Vec<_> = list.iter().map(|t| t.name.as_str()).collect();
            format!("the served model '{model}' has no {what} '{name}' (it has {names:?})")
        })
    }
    let model = metadata.name.as_str();
    let channels = manifest.channels as i64;
    let audio_like = |t: &TensorMetadata, what: &str| {
        if t.datatype != "FP32" {
            return Err(format!("{what} '{}' is {}, expected FP32", t.name, t.datatype));
        }
        match t.shape.as_slice() {
            [_, c, _] if *c == channels || *c == -1 => Ok(()),
            shape => Err(format!("{what} '{}' has shape {shape:?}, expected [batch, {channels}, length]", t.name)),
        }
    };
    audio_like(find(&metadata.inputs, &manifest.inputs.audio, "input", model)?, "input")?;
    audio_like(find(&metadata.outputs, &manifest.output, "output", model)?, "output")?;
    let t = find(&metadata.inputs, &manifest.inputs.t, "input", model)?;
    if t.datatype != "FP32" {
        return Err(format!("input '{}' is {}, expected FP32", t.name, t.datatype));
    }
    let t_rank = match t.shape.as_slice() {
        [_] => 1,
        [_, 1] => 2,
        shape => return Err(format!("input '{}' has shape {shape:?}, expected [batch] or [batch, 1]", t.name)),
    };

    let value = |key: &str| config.parameters.get(key).map(|p| p.string_value.as_str());
    let expect = |key: &str, what: &str, ours: String| match value(key) {
        Some(theirs) if theirs == ours => Ok(()),
        Some(theirs) => Err(format!("the served model's {what} is {theirs}, this model's is {ours}")),
        None => Err(format!(
            "the server does not say the model's {what} (parameter {key}); serve the repository that \
             `redance model serve-config {}` writes",
            manifest.name
        )),
    };
    expect(param::SAMPLE_RATE, "sample rate", manifest.sample_rate.to_string())?;
    expect(param::WINDOW_LENGTH, "window length", manifest.window_length.to_string())?;
    expect(param::CHANNELS, "channel count", manifest.channels.to_string())?;
    expect(param::LENGTH_MULTIPLE, "length multiple", manifest.length_multiple.to_string())?;
    let sha = value(param::SHA256).unwrap_or_default();
    let precision = if sha.eq_ignore_ascii_case(&manifest.sha256) {
        None
    } else if let Some((name, _)) = manifest.variants.iter().find(|(_, v)| v.sha256.eq_ignore_ascii_case(sha)) {
        Some(name.as_str())
    } else {
        return Err(format!(
            "the server runs other weights than model '{}' here (sha256 '{sha}', expected {}); renders \
             would not match",
            manifest.name, manifest.sha256
        ));
    };
    let kind = match config.instance_group.first().map(|g| g.kind.as_str()) {
        Some("KIND_GPU") => "GPU",
        Some("KIND_CPU") => "CPU",
        _ => "server",
    };
    let device = match precision {
        Some(p) => format!("{kind} {p}"),
        None => kind.to_owned(),
    };
    Ok(Served { t_rank, max_batch: config.max_batch_size.max(1), device })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelSource;

    fn manifest() -> Manifest {
        ModelSource::Embedded.manifest().unwrap().0
    }

    fn served(m: &Manifest) -> (ModelMetadata, ModelConfig) {
        let metadata = serde_json::from_value(serde_json::json!({
            "name": m.name, "versions": ["1"], "platform": "onnxruntime_onnx",
            "inputs": [
                {"name": m.inputs.audio, "datatype": "FP32", "shape": [-1, m.channels, -1]},
                {"name": m.inputs.t, "datatype": "FP32", "shape": [-1, 1]},
            ],
            "outputs": [{"name": m.output, "datatype": "FP32", "shape": [-1, m.channels, -1]}],
        }))
        .unwrap();
        let config = crate::backend::remote::repository::config_json(m, &m.sha256, 8, "KIND_CPU");
        (metadata, serde_json::from_value(config).unwrap())
    }

    #[test]
    fn the_repository_we_write_passes() {
        let m = manifest();
        let (metadata, config) = served(&m);
        assert_eq!(check(&m, &metadata, &config), Ok(Served { t_rank: 2, max_batch: 8, device: "CPU".into() }));
    }

    #[test]
    fn the_fp16_variant_is_recognised() {
        let m = manifest();
        let (metadata, _) = served(&m);
        let fp16 = &m.variants["fp16"].sha256;
        let config =
            serde_json::from_value(crate::backend::remote::repository::config_json(&m, fp16, 8, "KIND_GPU")).unwrap();
        assert_eq!(check(&m, &metadata, &config).unwrap().device, "GPU fp16");
    }

    #[test]
    fn differences_are_named() {
        let m = manifest();
        let (mut metadata, mut config) = served(&m);
        config.parameters.get_mut(param::SAMPLE_RATE).unwrap().string_value = "44100".into();
        assert!(check(&m, &metadata, &config).unwrap_err().contains("sample rate is 44100, this model's is 48000"));
        let (_, mut config) = served(&m);
        config.parameters.remove(param::WINDOW_LENGTH);
        assert!(check(&m, &metadata, &config).unwrap_err().contains("does not say the model's window length"));
        let (_, mut config) = served(&m);
        config.parameters.get_mut(param::SHA256).unwrap().string_value = "00".into();
        assert!(check(&m, &metadata, &config).unwrap_err().contains("other weights"));
        let (_, config) = served(&m);
        metadata.inputs[0].shape = vec![-1, 1, -1];
        assert!(check(&m, &metadata, &config).unwrap_err().contains("expected [batch, 2, length]"));
        metadata.inputs[0].name = "x".into();
        assert!(check(&m, &metadata, &config).unwrap_err().contains("no input 'audio'"));
    }
}
