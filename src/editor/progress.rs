//! The render progress bar: windows and diffusion steps done, and the time left, estimated from
//! the time so far (the engine's model calls take about the same time each).

use crate::status::Status;
use std::sync::atomic::Ordering;

/// What the bar shows, read from the status atomics (plus when the editor saw the render start).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RenderProgress {
    /// Model calls done over planned.
    pub fraction: f32,
    /// Render windows done.
    pub windows_done: usize,
    /// Render windows planned.
    pub windows_total: usize,
    /// Model calls done.
    pub calls_done: usize,
    /// Model calls planned.
    pub calls_total: usize,
    /// Seconds since the editor saw the render start.
    pub elapsed_s: f64,
}

impl RenderProgress {
    /// The render's progress now, `elapsed_s` after it started.
    pub fn read(status: &Status, elapsed_s: f64) -> Self {
        let load = |a: &std::sync::atomic::AtomicUsize| a.load(Ordering::Relaxed);
        let fraction = status.render_progress.load(Ordering::Relaxed);
        Self {
            fraction: if fraction.is_finite() { fraction.clamp(0.0, 1.0) } else { 0.0 },
            windows_done: load(&status.render_windows_done),
            windows_total: load(&status.render_windows_total),
            calls_done: load(&status.render_calls_done),
            calls_total: load(&status.render_calls_total),
            elapsed_s,
        }
    }

    /// Seconds left, once there is enough progress to tell (≥ 2 %, ≥ 1 s).
    pub fn eta_s(&self) -> Option<f64> {
        let f =
            if self.calls_total > 0 { self.calls_done as f64 / self.calls_total as f64 } else { self.fraction as f64 };
        if f < 0.02 || self.elapsed_s < 1.0 {
            return None;
        }
        Some((self.elapsed_s * (1.0 - f) / f).max(0.0))
    }

    /// "window 2/5 · step 37/150 · about 12 s left"; parts without data are left out.
    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        if self.windows_total > 0 {
            parts.push(format!("window {}/{}", (self.windows_done + 1).min(self.windows_total), self.windows_total));
        }
        if self.calls_total > 0 {
            parts.push(format!("step {}/{}", self.calls_done, self.calls_total));
        } else {
            parts.push(format!("{:.0} %", self.fraction * 100.0));
        }
        parts.push(match self.eta_s() {
            Some(s) => format!("{} left", format_duration(s)),
            None => "estimating time left…".into(),
        });
        parts.join(" · ")
    }
}

/// "about 12 s", "about 1 min 05 s", "under 1 s".
pub fn format_duration(s: f64) -> String {
    if !s.is_finite() {
        return "unknown".into();
    }
    if s < 1.0 {
        return "under 1 s".into();
    }
    let s = s.round() as u64;
    if s < 60 { format!("about {s} s") } else { format!("about {} min {:02} s", s / 60, s % 60) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_from_calls() {
        let p = RenderProgress { calls_done: 25, calls_total: 100, elapsed_s: 10.0, ..Default::default() };
        assert!((p.eta_s().unwrap() - 30.0).abs() < 1e-9);
        let early = RenderProgress { calls_done: 1, calls_total: 100, elapsed_s: 10.0, ..Default::default() };
        assert_eq!(early.eta_s(), None);
        let fresh = RenderProgress { fraction: 0.5, elapsed_s: 0.5, ..Default::default() };
        assert_eq!(fresh.eta_s(), None);
        let by_fraction = RenderProgress { fraction: 0.5, elapsed_s: 4.0, ..Default::default() };
        assert_eq!(by_fraction.eta_s(), Some(4.0));
    }

    #[test]
    fn text_names_windows_steps_and_time() {
        let p = RenderProgress {
            fraction: 0.4,
            windows_done: 1,
            windows_total: 5,
            calls_done: 60,
            calls_total: 150,
            elapsed_s: 8.0,
        };
        assert_eq!(p.text(), "window 2/5 · step 60/150 · about 12 s left");
        let bare = RenderProgress { fraction: 0.0, ..Default::default() };
        assert_eq!(bare.text(), "0 % · estimating time left…");
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(format_duration(0.2), "under 1 s");
        assert_eq!(format_duration(12.4), "about 12 s");
        assert_eq!(format_duration(65.0), "about 1 min 05 s");
        assert_eq!(format_duration(f64::NAN), "unknown");
    }
}
