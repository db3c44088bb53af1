//! "Render on: this computer / a server", saved with the project. The host loads it on its own
//! thread ([`RenderOnField`]); the bridge applies it to the engine (`Engine::set_server`), never the
//! audio thread. The engine is one per process, so the setting of the instance applied last decides
//! where every instance in the process renders; the editor shows where renders actually go.

use crate::shared::Shared;
use nice_plug::params::persist::PersistentField;
use redance_engine::backend::remote::ServerOptions;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::Ordering;

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

/// The `#[persist]` field: reads and writes [`Shared::render_on`], and on load asks the bridge to
/// apply it.
pub struct RenderOnField(pub Arc<Shared>);

impl RenderOnField {
    /// Stores `value` and asks the bridge to apply it (state load, the editor's Apply).
    pub fn apply(shared: &Shared, value: RenderOn) {
        *shared.render_on.lock() = value;
        shared.render_on_requested.fetch_add(1, Ordering::AcqRel);
    }
}

impl<'a> PersistentField<'a, RenderOn> for RenderOnField {
    fn set(&self, value: RenderOn) {
        Self::apply(&self.0, value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&RenderOn) -> R,
    {
        f(&self.0.render_on.lock())
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

    #[test]
    fn loading_asks_the_bridge_to_apply() {
        let shared = Arc::new(Shared::default());
        let field = RenderOnField(shared.clone());
        field.set(RenderOn { server: true, url: "gpu:8000".into() });
        assert_eq!(shared.render_on_requested.load(Ordering::Acquire), 1);
        assert!(field.map(|v| v.server));
    }
}
