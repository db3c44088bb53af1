//! "Render on": this computer or a server, as the project saves it. Plain data the host thread,
//! the editor and the bridge all read (the `#[persist]` field is `state::render_on`).

use redance_engine::backend::remote::ServerOptions;
use serde::{Deserialize, Serialize};

/// Where this project renders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RenderOn {
    /// Render on the server at `url` (else on this computer).
    pub server: bool,
    /// The server's address, kept while rendering locally so switching back needs no retyping.
    pub url: String,
}

impl RenderOn {
    /// What the engine is told: `None` for this computer; an error in words for a bad address.
    pub fn server_options(&self) -> Result<Option<ServerOptions>, String> {
        if !self.server {
            return Ok(None);
        }
        ServerOptions::new(&self.url).map(Some).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_computer_needs_no_address() {
        assert_eq!(RenderOn { server: false, url: "nonsense://".into() }.server_options(), Ok(None));
    }

    #[test]
    fn a_server_address_is_checked() {
        let on = RenderOn { server: true, url: "127.0.0.1:8000/".into() };
        assert_eq!(on.server_options().unwrap().unwrap().url, "http://127.0.0.1:8000");
        let err = RenderOn { server: true, url: "https://gpu.example".into() }.server_options().unwrap_err();
        assert!(err.contains("only http://"), "{err}");
        assert!(RenderOn { server: true, url: " ".into() }.server_options().is_err());
    }

    #[test]
    fn saved_form_reads_back_and_missing_fields_default() {
        let on = RenderOn { server: true, url: "http://gpu:8000".into() };
        let back: RenderOn = serde_json::from_str(&serde_json::to_string(&on).unwrap()).unwrap();
        assert_eq!(back, on);
        assert_eq!(
            serde_json::from_str::<RenderOn>(r#"{"url":"x"}"#).unwrap(),
            RenderOn { server: false, url: "x".into() }
        );
    }
}
