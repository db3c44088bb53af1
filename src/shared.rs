//! The per-instance state every thread may reach: the status, the saved-takes manifest and the
//! host's track name.

use crate::boundary::{BridgeCommand, RenderOn};
use crate::status::Status;
use parking_lot::Mutex;
use std::sync::atomic::AtomicU64;

/// What every thread of an instance may reach.
#[derive(Debug, Default)]
pub struct Shared {
    /// Atomics for every thread, and the message in words.
    pub status: Status,
    /// The saved-takes manifest as stored in the plugin state. Written by the bridge (after a render,
    /// Keep) and by the host (state load, through [`crate::state::SavedTakes`]); never by the audio
    /// thread.
    pub saved: Mutex<serde_json::Value>,
    /// The host's name for the track, for export file names; set by the editor when the host tells.
    pub track_name: Mutex<Option<String>>,
    /// This instance's engine owner id (0 before the first activation), so the editor's Cancel can
    /// cancel its jobs; set by the plugin when the bridge starts.
    pub engine_owner: AtomicU64,
    /// Reaches the bridge from non-audio threads (the editor's history); set when the bridge starts.
    pub commands: Mutex<Option<crossbeam_channel::Sender<BridgeCommand>>>,
    /// Where this project renders (saved with it); applied to the engine by the bridge.
    pub render_on: Mutex<RenderOn>,
    /// Bumped when `render_on` is loaded or changed; the bridge applies it when it sees a new count.
    pub render_on_requested: AtomicU64,
    /// The recovery journal this instance writes (`state::journal::instance_id` makes it on first
    /// use); the bridge replaces it with a loaded state's. Never touched by the audio thread.
    pub journal_id: Mutex<Option<String>>,
}
