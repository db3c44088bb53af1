//! The remote denoiser: the same [`Denoiser`] as the local ONNX Runtime session, answered by a Triton
//! server over KServe v2 HTTP with binary tensors. Connecting checks the served model against the
//! manifest; every call has a bounded time-out; a failed call makes the next one check the server
//! again (it may have restarted with another model) on fresh connections.

use super::ServerOptions;
use super::metadata::{self, ModelConfig, ModelMetadata, Served};
use super::protocol::{self, HEADER_LENGTH, Input};
use crate::denoiser::Denoiser;
use crate::error::{EngineError, Result};
use crate::model::{Manifest, ModelInfo};
use std::time::Duration;
use ureq::Agent;

/// A model served by Triton, called like the local session.
pub struct RemoteDenoiser {
    options: ServerOptions,
    manifest: Manifest,
    info: ModelInfo,
    /// The model's name on the server.
    model: String,
    agent: Agent,
    served: Served,
    /// Windows per request the engine asked for (capped by the server's `max_batch_size`).
    max_batch: usize,
    /// Set when a call failed: the next call checks the server first.
    stale: bool,
    /// The request body, reused call after call.
    body: Vec<u8>,
}

/// Replies larger than this are refused (a window of the full-size model at batch 8 is 4 MiB).
const MAX_REPLY_BYTES: u64 = 1 << 30;

impl RemoteDenoiser {
    /// Asks the server about the model and checks it against `manifest`. `max_batch`: the most
    /// render windows to send in one request (as [`crate::model::SessionOptions::max_batch`]).
    pub fn connect(options: &ServerOptions, manifest: &Manifest, max_batch: usize) -> Result<Self> {
        let model = options.model.clone().unwrap_or_else(|| manifest.name.clone());
        let agent = agent(options);
        let served = describe(&agent, options, &model, manifest)?;
        Ok(Self {
            max_batch: max_batch.clamp(1, served.max_batch),
            options: options.clone(),
            info: manifest.info(),
            manifest: manifest.clone(),
            model,
            agent,
            served,
            stale: false,
            body: Vec::new(),
        })
    }

    fn infer(&mut self, x: &[f32], t: &[f32], frames: usize, v: &mut [f32]) -> Result<()> {
        let batch = t.len();
        let audio_shape = [batch, self.info.channels, frames];
        let t_shape = [batch, 1];
        let header_len = protocol::encode_request(
            &[
                Input { name: &self.manifest.inputs.audio, shape: &audio_shape, data: x },
                Input { name: &self.manifest.inputs.t, shape: &t_shape[..self.served.t_rank], data: t },
            ],
            &self.manifest.output,
            &mut self.body,
        );
        let url = format!("{}/v2/models/{}/infer", self.options.url, self.model);
        let sent = self
            .agent
            .post(&url)
            .header(HEADER_LENGTH, header_len.to_string())
            .content_type("application/octet-stream")
            .send(&self.body[..]);
        let mut reply = sent.map_err(|e| self.error(&e))?;
        let status = reply.status().as_u16();
        let reply_header = reply.headers().get(HEADER_LENGTH).and_then(|h| h.to_str().ok()?.parse().ok());
        let bytes = reply.body_mut().with_config().limit(MAX_REPLY_BYTES).read_to_vec().map_err(|e| self.error(&e))?;
        if status != 200 {
            return Err(server(
                &self.options,
                format!("refused a model call (HTTP {status}: {})", protocol::error_message(&bytes)),
            ));
        }
        protocol::decode_output(&bytes, reply_header, &self.manifest.output, v)
            .map_err(|e| server(&self.options, format!("sent a reply Redance cannot read: {e}")))
    }

    fn error(&self, e: &ureq::Error) -> EngineError {
        describe_error(&self.options, e, Some("stopped answering mid-render"), self.options.call_timeout)
    }
}

impl Denoiser for RemoteDenoiser {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn predict_v(&mut self, x: &[f32], t: &[f32], frames: usize, v: &mut [f32]) -> Result<()> {
        if self.stale {
            // Fresh connections (the old ones died with the server), then the model check again.
            self.agent = agent(&self.options);
            self.served = describe(&self.agent, &self.options, &self.model, &self.manifest)?;
            self.max_batch = self.max_batch.min(self.served.max_batch);
            self.stale = false;
        }
        let result = self.infer(x, t, frames, v);
        self.stale = result.is_err();
        result
    }

    fn max_batch(&self) -> usize {
        self.max_batch
    }

    fn device(&self) -> String {
        format!("{}{} ({})", super::DEVICE_PREFIX, self.options.url, self.served.device)
    }
}

fn agent(options: &ServerOptions) -> Agent {
    Agent::config_builder()
        .timeout_connect(Some(options.connect_timeout))
        .timeout_global(Some(options.call_timeout))
        .http_status_as_error(false)
        .build()
        .into()
}

fn server(options: &ServerOptions, reason: String) -> EngineError {
    EngineError::Server { url: options.url.clone(), reason }
}

/// A transport failure in words: the server is not there, went away, or is too slow. `during`
/// prefixes failures of a model call, which can only happen once the server was found.
fn describe_error(options: &ServerOptions, e: &ureq::Error, during: Option<&str>, timeout: Duration) -> EngineError {
    let refused = matches!(e, ureq::Error::ConnectionFailed)
        || matches!(e, ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused);
    let cause = match e {
        ureq::Error::Timeout(_) => format!("no answer within {} s", timeout.as_secs_f64().round()),
        ureq::Error::HostNotFound => "host not found, check the address".into(),
        _ if refused => "connection refused".into(),
        ureq::Error::Io(io) => format!("connection lost: {io}"),
        other => other.to_string(),
    };
    server(
        options,
        match (during, refused) {
            (Some(during), _) => format!("{during} ({cause})"),
            (None, true) => format!("not reachable: {cause} (is the server running?)"),
            (None, false) => format!("not usable: {cause}"),
        },
    )
}

/// Reads the server's metadata and configuration for `model` (short time-outs: these calls do no
/// work) and checks them against the manifest.
fn describe(agent: &Agent, options: &ServerOptions, model: &str, manifest: &Manifest) -> Result<Served> {
    let timeout = options.connect_timeout * 2;
    let get = |path: &str| -> Result<(u16, Vec<u8>)> {
        let url = format!("{}{path}", options.url);
        let mut reply = agent
            .get(&url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .call()
            .map_err(|e| describe_error(options, &e, None, timeout))?;
        let status = reply.status().as_u16();
        let body = reply
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| describe_error(options, &e, None, timeout))?;
        Ok((status, body))
    };
    let (status, body) = get(&format!("/v2/models/{model}"))?;
    if status != 200 {
        return Err(server(
            options,
            format!(
                "does not serve model '{model}' ({}, HTTP {status}); give it the repository that \
                 `redance model serve-config` writes",
                protocol::error_message(&body)
            ),
        ));
    }
    let metadata: ModelMetadata = serde_json::from_slice(&body)
        .map_err(|e| server(options, format!("is not a KServe v2 server (model metadata: {e})")))?;
    let (status, body) = get(&format!("/v2/models/{model}/config"))?;
    let config: ModelConfig = if status == 200 {
        serde_json::from_slice(&body)
            .map_err(|e| server(options, format!("sent a model configuration Redance cannot read ({e})")))?
    } else {
        ModelConfig::default()
    };
    let served = metadata::check(manifest, &metadata, &config).map_err(|reason| server(options, reason))?;
    let (status, body) = get(&format!("/v2/models/{model}/ready"))?;
    if status != 200 {
        return Err(server(
            options,
            format!("has model '{model}' but it is not ready ({})", protocol::error_message(&body)),
        ));
    }
    Ok(served)
}
