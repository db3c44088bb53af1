//! Redance, the plugin: captures a region of a track in step with the host transport, renders a
//! Dance Diffusion variation of it in the background and plays the take in place.
//!
//! Layers, from the host inwards: [`plugin`] (nice-plug lifecycle) drives [`rt`] (the audio thread:
//! capture, take playback; no allocation) and [`bridge`] (the bridge thread: engine jobs, takes); the
//! two meet only in [`boundary`] (host configuration, capture buffers, messages, rtrb rings), which
//! imports nothing of this crate (`tests/imports.rs` checks that no import circle remains) →
//! `redance_engine`. [`state`] keeps takes across save/load; [`unload`] keeps the library mapped.

#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod boundary;
pub mod bridge;
#[cfg(feature = "editor")]
pub mod editor;
pub mod params;
pub mod plugin;
pub mod rt;
pub mod shared;
pub mod state;
pub mod status;
pub mod unload;

pub use plugin::Redance;

nice_plug::nice_export_clap!(Redance);
nice_plug::nice_export_vst3!(Redance);
