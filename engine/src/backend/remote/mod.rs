//! The remote backend: NVIDIA Triton Inference Server (or any KServe v2 server with Triton's
//! model-configuration extension) runs the model; [`RemoteDenoiser`] is the engine's
//! [`crate::denoiser::Denoiser`] for it, so jobs, samplers and windows do not know the difference.
//! [`repository`] writes the Triton model repository a studio serves.

mod denoiser;
pub mod metadata;
pub mod protocol;
pub mod repository;

pub use denoiser::RemoteDenoiser;

use super::Backend;
use crate::error::{EngineError, Result};
use crate::worker::EngineConfig;
use std::time::Duration;

/// Connects to the server and checks its model against the configured model's manifest (no ONNX
/// Runtime needed on this computer).
pub fn remote_backend(config: &EngineConfig, server: &ServerOptions) -> Result<Backend> {
    let (manifest, _) = config.model.manifest()?;
    let denoiser = RemoteDenoiser::connect(server, &manifest, config.session.max_batch)?;
    let origin = format!("{} on {}", manifest.name, server.url);
    Ok(Backend { denoiser: Box::new(denoiser), runtime: None, origin, provider_note: None })
}

/// How a remote backend names its device: `Triton at URL (the server's device)`.
pub const DEVICE_PREFIX: &str = "Triton at ";

/// For a device named by a remote backend, what follows [`DEVICE_PREFIX`] (`URL (device)`); `None`
/// for a device of this computer.
pub fn served_at(device: &str) -> Option<&str> {
    device.strip_prefix(DEVICE_PREFIX)
}

/// How long connecting may take before the server counts as unreachable.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest one model call may take, queueing on the server included (a full-size model call
/// is about 2 s on a laptop CPU; a busy shared server queues several).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the model runs when it runs remotely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// `http://host:port` (any path prefix kept), without a trailing slash.
    pub url: String,
    /// The model's name on the server; `None`: the manifest's name.
    pub model: Option<String>,
    /// How long connecting may take ([`DEFAULT_CONNECT_TIMEOUT`]); metadata requests get twice this.
    pub connect_timeout: Duration,
    /// How long one model call may take ([`DEFAULT_CALL_TIMEOUT`]).
    pub call_timeout: Duration,
}

impl ServerOptions {
    /// Accepts `host:port`, `http://host:port[/prefix]`; refuses https (this build has no TLS).
    pub fn new(url: &str) -> Result<Self> {
        let url = url.trim().trim_end_matches('/');
        let url = if url.contains("://") { url.to_owned() } else { format!("http://{url}") };
        if !url.starts_with("http://") {
            return Err(EngineError::Input(format!(
                "render server '{url}': only http:// addresses are supported (put a TLS proxy on the \
                 server's network side if it needs one)"
            )));
        }
        if url.len() <= "http://".len() {
            return Err(EngineError::Input("the render server address is empty".into()));
        }
        Ok(Self { url, model: None, connect_timeout: DEFAULT_CONNECT_TIMEOUT, call_timeout: DEFAULT_CALL_TIMEOUT })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_or_refused() {
        assert_eq!(ServerOptions::new("127.0.0.1:8000").unwrap().url, "http://127.0.0.1:8000");
        assert_eq!(ServerOptions::new(" http://gpu.lan:8000/triton/ ").unwrap().url, "http://gpu.lan:8000/triton");
        assert!(ServerOptions::new("https://gpu.lan").unwrap_err().to_string().contains("only http://"));
        assert!(ServerOptions::new("").is_err());
    }

    #[test]
    fn an_unreachable_server_is_named() {
        // A port nothing listens on: bind one, then free it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let options = ServerOptions::new(&format!("127.0.0.1:{port}")).unwrap();
        let manifest = crate::ModelSource::Embedded.manifest().unwrap().0;
        let err = RemoteDenoiser::connect(&options, &manifest, 1).err().unwrap().to_string();
        assert!(err.contains(&options.url) && err.contains("not reachable"), "{err}");
    }
}
