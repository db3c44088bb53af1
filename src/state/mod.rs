//! Takes that survive saving and reopening a project. The plugin state holds a small manifest
//! ([`manifest::TakesManifest`]); the audio lives in content-addressed float WAV files under a data folder
//! ([`files`]), each checked against its SHA-256 when loaded. A damaged or foreign manifest, or a
//! missing or changed file, gives a status message and loses nothing else.

pub mod editor_layout;
pub mod export;
pub mod files;
pub mod journal;
pub mod manifest;
mod persist;
pub mod render_on;

pub use persist::{SavedStatus, SavedTakes};
