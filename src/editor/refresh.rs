//! Once a frame, the view catches up with the world: the loader's replies (lanes, models), the
//! saved-takes manifest when the status says it changed, the render's start, the engine status (4 Hz),
//! and the buttons' view of the capture and take.

use super::buttons::PhaseView;
use super::loader::{LaneKind, Loader, Reply, Request};
use super::{App, ab, demo};
use crate::state::manifest::TakesManifest;
use egui::{Context, TextureOptions};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

impl App {
    /// Once a frame: replies from the loader, the manifest, the engine status (4 Hz).
    pub(super) fn refresh(&mut self, ctx: &Context) {
        let replies = self.loader.as_ref().map(Loader::poll).unwrap_or_default();
        for reply in replies {
            match reply {
                Reply::Models(m) => self.models = m,
                Reply::Lane { lane, key, result } => {
                    let slot = if lane == LaneKind::Source { &mut self.source } else { &mut self.take };
                    if slot.key.as_deref() != Some(key.as_str()) {
                        continue;
                    }
                    match result {
                        Ok(data) => {
                            slot.texture = Some(ctx.load_texture(
                                format!("redance-{lane:?}-spectrogram"),
                                data.spectrogram.image(),
                                TextureOptions::LINEAR,
                            ));
                            slot.data = Some(data);
                        }
                        Err(e) => slot.error = Some(e),
                    }
                    let (s, t) =
                        (self.source.data.as_ref().map(|d| &d.overview), self.take.data.as_ref().map(|d| &d.overview));
                    ab::update_gain(&self.inputs.shared.status, s, t);
                }
            }
        }
        let status = &self.inputs.shared.status;
        if !self.demo {
            let key = (
                status.message_seq.load(Ordering::Acquire),
                status.restore_seen.load(Ordering::Acquire),
                status.renders_finished.load(Ordering::Acquire),
            );
            if self.manifest_key != Some(key) {
                self.manifest_key = Some(key);
                let value = self.inputs.shared.saved.lock().clone();
                self.manifest = TakesManifest::parse(&value).ok().flatten();
            }
        }
        if let Some(loader) = &self.loader {
            let source = self.manifest.as_ref().and_then(|m| m.source.as_ref()).map(|s| s.file.clone());
            let take = self.manifest.as_ref().and_then(TakesManifest::current_take).map(|t| t.file.clone());
            if self.demo {
                if self.source.key.is_none() {
                    self.source.key = Some(demo::SOURCE_KEY.into());
                    self.take.key = Some(demo::TAKE_KEY.into());
                    loader.request(Request::Demo {
                        source_key: demo::SOURCE_KEY.into(),
                        take_key: demo::TAKE_KEY.into(),
                    });
                }
            } else {
                let key = source.as_ref().map(|f| f.sha256.clone());
                self.source.want(
                    key.as_deref(),
                    || Request::Lane { lane: LaneKind::Source, file: source.clone().unwrap() },
                    loader,
                );
                let key = take.as_ref().map(|f| f.sha256.clone());
                self.take.want(
                    key.as_deref(),
                    || Request::Lane { lane: LaneKind::Take, file: take.clone().unwrap() },
                    loader,
                );
            }
        }
        let rendering = status.rendering.load(Ordering::Acquire);
        match (rendering, self.render_started) {
            (true, None) => {
                self.render_started =
                    Some(if self.demo { Instant::now() - Duration::from_secs(9) } else { Instant::now() })
            }
            (false, Some(_)) => self.render_started = None,
            _ => {}
        }
        if self.engine_status_at.is_none_or(|t| t.elapsed() > Duration::from_millis(250)) {
            self.engine_status = self.inputs.engine.status();
            self.engine_status_at = Some(Instant::now());
        }
    }

    pub(super) fn phase(&self) -> PhaseView {
        let s = &self.inputs.shared.status;
        let done = s.capture_frames_done.load(Ordering::Relaxed);
        let total = s.capture_frames_total.load(Ordering::Relaxed);
        let manifest = self.manifest.as_ref();
        let current = manifest.and_then(TakesManifest::current_take);
        PhaseView {
            active: self.demo || self.inputs.shared.engine_owner.load(Ordering::Relaxed) != 0,
            capture: s.capture_phase(),
            capture_fraction: if total > 0 { done as f32 / total as f32 } else { 0.0 },
            rendering: s.rendering.load(Ordering::Relaxed),
            has_source: manifest.is_some_and(|m| m.source.is_some())
                || s.captures_completed.load(Ordering::Relaxed) > 0,
            has_take: current.is_some() || s.take_frames_total.load(Ordering::Relaxed) > 0,
            take_kept: current.is_some_and(|t| t.kept),
        }
    }
}
