//! What both sides of the thread boundary share: the host's configuration, the capture buffer, the
//! messages and the ring ends that carry them. `rt` (the audio thread) and `bridge` (the worker
//! thread) both import this module and never each other; it imports nothing of this crate and no
//! nice-plug type, only the engine's (checked by `tests/imports.rs`).

mod capture_buf;
mod host;
mod messages;
mod render_on;
mod rings;

pub use capture_buf::{CaptureBuf, STRENGTH_STRIDE_FRAMES, prefault};
pub use host::{HostConfig, MAX_CAPTURE_SECONDS};
pub use messages::{BridgeCommand, Placement, RenderChoice, TakeMsg, ToBridge};
pub use render_on::RenderOn;
pub use rings::{BridgeEnds, CAPTURE_POOL, RtLink, link};
