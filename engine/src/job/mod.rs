//! A render job: what to render (spec), and the driver that walks it window by window through a
//! sampler, streaming finished audio to an observer.

mod interpolation;
pub mod level;
mod render;
mod spec;
mod strength;

pub use render::{RenderObserver, render};
pub use spec::{JobSpec, Mode, ModeKind, RenderSettings};
pub use strength::StrengthCurve;
