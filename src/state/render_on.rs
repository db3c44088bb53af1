//! "Render on: this computer / a server", saved with the project. The host loads it on its own
//! thread ([`RenderOnField`]); the bridge applies it to the engine (`Engine::set_server`), never the
//! audio thread. The engine is one per process, so the setting of the instance applied last decides
//! where every instance in the process renders; the editor shows where renders actually go.

pub use crate::boundary::RenderOn;
use crate::shared::Shared;
use nice_plug::params::persist::PersistentField;
use std::sync::Arc;
use std::sync::atomic::Ordering;

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
    fn loading_asks_the_bridge_to_apply() {
        let shared = Arc::new(Shared::default());
        let field = RenderOnField(shared.clone());
        field.set(RenderOn { server: true, url: "gpu:8000".into() });
        assert_eq!(shared.render_on_requested.load(Ordering::Acquire), 1);
        assert!(field.map(|v| v.server));
    }
}
