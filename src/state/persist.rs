//! The `#[persist]` field: the manifest as raw JSON, so a damaged one is reported by the bridge
//! rather than silently dropped by the state loader.

use super::journal::{self, JournalTag};
use super::manifest::TakesManifest;
use crate::shared::Shared;
use nice_plug::params::persist::PersistentField;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Shares the instance's [`Shared`] with the params struct.
pub struct SavedTakes(pub Arc<Shared>);

impl<'a> PersistentField<'a, serde_json::Value> for SavedTakes {
    /// Host thread, on state load: store, and tell the bridge to restore.
    fn set(&self, value: serde_json::Value) {
        *self.0.saved.lock() = value;
        self.0.status.restore_requested.fetch_add(1, Ordering::AcqRel);
    }

    /// Host thread, on save. Before any capture the state still names the instance's journal, so a
    /// project saved then and reopened after a crash finds what was captured since.
    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&serde_json::Value) -> R,
    {
        let saved = self.0.saved.lock().clone();
        if saved.is_null() {
            let tag = JournalTag { id: journal::instance_id(&self.0), seq: 0 };
            return f(&TakesManifest { journal: Some(tag), ..TakesManifest::default() }.to_value());
        }
        f(&saved)
    }
}

/// The status line as the host saves it: `{"message", "error", "rendering", "progress"}`. Read-only
/// (loading ignores it): it lets a host-side script or a person reading a saved project see why a
/// render is missing without opening the editor.
pub struct SavedStatus(pub Arc<Shared>);

impl<'a> PersistentField<'a, serde_json::Value> for SavedStatus {
    fn set(&self, _value: serde_json::Value) {}

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&serde_json::Value) -> R,
    {
        let status = &self.0.status;
        f(&serde_json::json!({
            "message": status.message(),
            "error": status.message_is_error.load(Ordering::Relaxed),
            "rendering": status.rendering.load(Ordering::Relaxed),
            "progress": status.render_progress.load(Ordering::Relaxed),
        }))
    }
}
