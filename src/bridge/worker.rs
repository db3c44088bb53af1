//! The bridge thread: polls the audio thread's queue and the engine's job events, streams takes into
//! the rings, keeps the history and the manifest. Polls rather than being woken, so the audio thread
//! never makes a system call to reach it.

use super::BridgeConfig;
use super::job::{self, Source};
use super::outbox::Outbox;
use super::pending;
use crate::boundary::{BridgeCommand, BridgeEnds, MAX_CAPTURE_SECONDS, Placement, RenderChoice, ToBridge};
use crate::shared::Shared;
use crate::state::manifest::{FileRef, Manifest, SourceEntry, TakeEntry};
use crate::state::{export, files};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use redance_engine::{Audio, EngineError, JobEvent, JobHandle, ModeKind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Poll intervals while something is moving, and while idle.
const POLL_BUSY: Duration = Duration::from_millis(1);
const POLL_IDLE: Duration = Duration::from_millis(5);
/// Unkept takes in the history, the current one included; kept takes stay (up to MAX_KEPT).
const HISTORY_UNKEPT: usize = 4;
const MAX_KEPT: usize = 32;

struct ActiveJob {
    handle: JobHandle,
    take_id: u64,
    choice: RenderChoice,
    source: Source,
    /// Chunks so far (at the source's rate), re-sent when the audio thread is re-attached.
    chunks: Vec<Audio>,
    /// Chunks go to the audio thread as they come (same rate); otherwise the take goes at the end.
    live: bool,
    /// Started by a reopened project for a capture saved before its render finished.
    resumed: bool,
}

pub struct Worker {
    config: BridgeConfig,
    shared: Arc<Shared>,
    owner: u64,
    /// This activation's ring ends; `None` while deactivated.
    ends: Option<BridgeEnds>,
    outbox: Outbox,
    source: Option<Source>,
    /// The last two buffers known to be in the takes folder (the source and the take), so a source
    /// is written and hashed once however often the state is saved; kept to two so no old audio is
    /// held alive here.
    stored: Vec<(Arc<Audio>, FileRef)>,
    /// The current take: id and audio at the source's rate.
    take: Option<(u64, Arc<Audio>)>,
    manifest: Manifest,
    job: Option<ActiveJob>,
    next_take_id: u64,
    restore_seen: u64,
}

impl Worker {
    pub fn new(config: BridgeConfig, shared: Arc<Shared>, owner: u64) -> Self {
        Self {
            config,
            shared,
            owner,
            ends: None,
            outbox: Outbox::default(),
            source: None,
            stored: Vec::new(),
            take: None,
            manifest: Manifest::default(),
            job: None,
            next_take_id: 1,
            restore_seen: 0,
        }
    }

    pub fn run(mut self, rx: Receiver<BridgeCommand>) {
        loop {
            let busy = self.job.is_some() || !self.outbox.is_empty();
            match rx.recv_timeout(if busy { POLL_BUSY } else { POLL_IDLE }) {
                Ok(cmd) => {
                    if !self.command(cmd) {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.poll_rt();
            self.poll_job();
            self.check_restore();
            self.pump();
        }
        if let Some(job) = self.job.take() {
            job.handle.cancel();
        }
        self.shared.status.streaming.store(false, Ordering::Release);
        self.shared.status.rendering.store(false, Ordering::Release);
    }

    fn status(&self) -> &crate::status::Status {
        &self.shared.status
    }

    fn say(&self, text: impl Into<String>) {
        self.status().set_message(text, false);
    }

    fn complain(&self, text: impl Into<String>) {
        self.status().set_message(text, true);
    }

    /// Returns `false` on shutdown.
    fn command(&mut self, cmd: BridgeCommand) -> bool {
        match cmd {
            BridgeCommand::Attach(ends) => self.attach(*ends),
            BridgeCommand::Detach => {
                self.ends = None;
                self.outbox.clear();
            }
            BridgeCommand::Render(choice) => self.render(choice),
            BridgeCommand::Keep => self.keep(),
            BridgeCommand::Export => self.export(),
            BridgeCommand::SelectTake(id) => self.select_take(id),
            BridgeCommand::Shutdown => return false,
        }
        true
    }

    fn rate(&self) -> Option<u32> {
        self.ends.as_ref().map(|e| e.config.sample_rate as u32)
    }

    fn num_channels(&self) -> usize {
        self.ends.as_ref().map_or(2, |e| e.config.num_channels)
    }

    /// A new activation: new rings; whatever take there is goes into the new take buffer.
    fn attach(&mut self, ends: BridgeEnds) {
        self.ends = Some(ends);
        self.outbox.clear();
        let rate = self.rate().unwrap_or(48_000);
        if let Some(job) = self.job.as_mut() {
            job.live = job.source.audio.sample_rate == rate;
            if job.live {
                let (id, frames, placement) = (
                    job.take_id,
                    job.source.audio.frames(),
                    placement(job.source.start_pos, job.source.audio.sample_rate, rate),
                );
                let chunks: Vec<Audio> = job.chunks.clone();
                self.outbox.begin(id, frames, placement);
                for chunk in chunks {
                    let n = self.num_channels();
                    self.outbox.audio(chunk.to_layout(n));
                }
            }
        } else if let Some((id, audio)) = self.take.clone() {
            let start = self.source.as_ref().and_then(|s| s.start_pos);
            self.stream_whole(id, &audio, start);
        }
    }

    /// Queues a whole take: resampled to the current rate, in the current layout.
    fn stream_whole(&mut self, id: u64, audio: &Audio, start_pos: Option<i64>) {
        let Some(rate) = self.rate() else { return };
        let from = audio.sample_rate;
        let audio = if audio.sample_rate == rate {
            audio.to_layout(self.num_channels())
        } else {
            match redance_engine::resample::resample(audio, rate) {
                Ok(a) => a.to_layout(self.num_channels()),
                Err(e) => {
                    self.complain(format!("cannot play the take at {rate} Hz: {e}"));
                    return;
                }
            }
        };
        self.outbox.clear();
        self.outbox.begin(id, audio.frames(), placement(start_pos, from, rate));
        self.outbox.audio(audio);
        self.outbox.end();
    }

    fn poll_rt(&mut self) {
        let mut msgs = Vec::new();
        if let Some(ends) = self.ends.as_mut() {
            while let Ok(msg) = ends.from_rt.pop() {
                msgs.push(msg);
            }
        }
        for msg in msgs {
            match msg {
                ToBridge::Captured { buf, choice } => {
                    let source = Source::from_capture(&buf);
                    let truncated = buf.truncated;
                    if let Some(ends) = self.ends.as_mut() {
                        // Back to the pool; a buffer from an older activation is just dropped.
                        if buf.max_frames() == ends.config.max_capture_frames
                            && buf.channels.len() == ends.config.num_channels
                        {
                            let _ = ends.free_bufs.push(buf);
                        }
                    }
                    match source {
                        Ok(source) => self.new_source(source, choice, truncated),
                        Err(e) => self.complain(format!("the capture could not be used: {e}")),
                    }
                }
                ToBridge::Render(choice) => self.render(choice),
                ToBridge::Keep => self.keep(),
                ToBridge::Export => self.export(),
            }
            // A take this request began is in the rings before the audio thread hears it was handled.
            self.pump();
            self.status().requests_handled.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn new_source(&mut self, source: Source, choice: RenderChoice, truncated: bool) {
        let seconds = source.audio.duration_s();
        self.source = Some(source.clone());
        // Saved the moment it completes: a project saved from now on holds the capture.
        let saved = self.source_entry(&source).map(|entry| {
            self.manifest.source = Some(entry);
            self.publish();
        });
        let cut = if truncated { format!(" (cut to the {} s maximum)", MAX_CAPTURE_SECONDS) } else { String::new() };
        if choice.auto_render {
            self.render(choice);
            if !cut.is_empty() {
                self.say(format!("Captured {seconds:.1} s{cut}; rendering"));
            }
        } else {
            self.say(format!("Captured {seconds:.1} s{cut}. Press Render."));
        }
        if let Err(e) = saved {
            self.complain(format!("Captured {seconds:.1} s, but the capture is not saved with the project: {e}"));
        }
    }

    /// The source's manifest entry, its file written first (temporary file, then renamed: see
    /// `Audio::write_wav`) so the state never names a file that is not complete.
    fn source_entry(&mut self, source: &Source) -> Result<SourceEntry, String> {
        Ok(SourceEntry {
            file: self.store(&source.audio)?,
            start_pos: source.start_pos,
            strength: source.strength.clone(),
        })
    }

    /// `audio` in the takes folder; written once however often it is saved.
    fn store(&mut self, audio: &Arc<Audio>) -> Result<FileRef, String> {
        if let Some((_, file)) = self.stored.iter().find(|(a, _)| Arc::ptr_eq(a, audio)) {
            return Ok(file.clone());
        }
        let file = files::store(&self.config.data_dir, audio)?;
        self.remember(audio, &file);
        Ok(file)
    }

    fn remember(&mut self, audio: &Arc<Audio>, file: &FileRef) {
        if self.stored.len() >= 2 {
            self.stored.remove(0);
        }
        self.stored.push((audio.clone(), file.clone()));
    }

    /// Marks the render of `source` with `choice` as pending in the state until its take is saved.
    fn save_pending(&mut self, source: &Source, choice: &RenderChoice) -> Result<(), String> {
        let entry = self.source_entry(source)?;
        self.manifest.pending = Some(pending::entry(entry, choice));
        self.publish();
        Ok(())
    }

    fn render(&mut self, choice: RenderChoice) {
        let Some(source) = self.source.clone() else {
            self.complain("Nothing captured yet: press Capture first.");
            return;
        };
        self.start_render(source, choice, false);
    }

    /// Submits the job. `resumed`: a reopened project's pending render; the restored take queued
    /// before it stays queued, so it is held where the new one has not arrived (same region).
    fn start_render(&mut self, source: Source, choice: RenderChoice, resumed: bool) {
        if let Some(old) = self.job.take() {
            old.handle.cancel();
        }
        let previous = self.take.as_ref().map(|(_, a)| a.clone());
        let (spec, note) = job::spec(&source, &choice, previous);
        let handle = self.config.engine.submit(self.owner, spec);
        let take_id = self.next_take_id;
        self.next_take_id += 1;
        let rate = self.rate();
        let live = rate == Some(source.audio.sample_rate);
        if live {
            if !resumed {
                self.outbox.clear();
            }
            self.outbox.begin(
                take_id,
                source.audio.frames(),
                placement(source.start_pos, source.audio.sample_rate, source.audio.sample_rate),
            );
        }
        let saved = self.save_pending(&source, &choice);
        self.job = Some(ActiveJob { handle, take_id, choice, source, chunks: Vec::new(), live, resumed });
        self.status().rendering.store(true, Ordering::Release);
        self.status().streaming.store(true, Ordering::Release);
        self.status().render_progress.store(0.0, Ordering::Relaxed);
        self.say(match (resumed, note) {
            (true, _) => "Re-rendering the capture saved before the render finished…".to_string(),
            (false, Some(note)) => format!("Rendering take {take_id} ({note})"),
            (false, None) => format!("Rendering take {take_id}…"),
        });
        if let Err(e) = saved {
            self.complain(format!("Rendering take {take_id}, but the capture is not saved with the project: {e}"));
        }
    }

    fn poll_job(&mut self) {
        let Some(job) = self.job.as_mut() else { return };
        self.shared.status.render_progress.store(job.handle.progress.fraction(), Ordering::Relaxed);
        self.shared.status.mirror_job(&job.handle.progress);
        let mut events = Vec::new();
        loop {
            match job.handle.events.try_recv() {
                Ok(e) => events.push(e),
                Err(crossbeam_channel::TryRecvError::Empty) => break,
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    events.push(JobEvent::Failed(EngineError::Stopped));
                    break;
                }
            }
        }
        for event in events {
            // After the final event the channel closes too: nothing more belongs to this job.
            let Some(job) = self.job.as_mut() else { break };
            match event {
                JobEvent::Started { device, windows, .. } => {
                    let id = job.take_id;
                    let what = if job.resumed {
                        "Re-rendering the capture saved before the render finished: take"
                    } else {
                        "Rendering take"
                    };
                    self.say(format!("{what} {id} on {device} ({windows} windows)"));
                }
                JobEvent::Chunk { audio, .. } => {
                    if job.live {
                        let layout = audio.to_layout(self.ends.as_ref().map_or(2, |e| e.config.num_channels));
                        job.chunks.push(audio);
                        self.outbox.audio(layout);
                    } else {
                        job.chunks.push(audio);
                    }
                }
                JobEvent::Finished { audio, seconds, realtime_factor, .. } => {
                    let job = self.job.take().expect("job present");
                    self.finish(job, audio, seconds, realtime_factor);
                }
                JobEvent::Failed(error) => {
                    let id = job.take_id;
                    self.job = None;
                    self.outbox.end();
                    // Where the failed take did not arrive, the previous take of the region (or the
                    // dry track) plays on: see rt/take.rs.
                    self.complain(format!(
                        "Render of take {id} failed: {error}. Where it did not arrive, the previous take or the dry \
                         track plays."
                    ));
                    // Counted after the message, so whoever sees the count reads the message too.
                    self.status().renders_failed.fetch_add(1, Ordering::Release);
                }
                JobEvent::Cancelled => {
                    self.job = None;
                    self.outbox.end();
                    // Cancelled by the musician: not to be rendered on reopening (the source stays).
                    self.manifest.pending = None;
                    self.publish();
                }
            }
        }
        if self.job.is_none() {
            self.status().rendering.store(false, Ordering::Release);
        }
    }

    fn finish(&mut self, job: ActiveJob, audio: Arc<Audio>, seconds: f64, realtime_factor: f64) {
        let id = job.take_id;
        if job.live {
            self.outbox.end();
        } else {
            self.stream_whole(id, &audio, job.source.start_pos);
        }
        self.take = Some((id, audio.clone()));
        self.status().render_progress.store(1.0, Ordering::Relaxed);
        let saved = self.save_take(&job, &audio);
        let resumed = if job.resumed { ": re-rendered from the capture saved before the render finished" } else { "" };
        match saved {
            Ok(()) => self.say(format!("Take {id} ready{resumed} ({seconds:.1} s, {realtime_factor:.1}× real time)")),
            Err(e) => self.complain(format!("Take {id} ready but not saved with the project: {e}")),
        }
        // Counted after the message and the save, so whoever sees the count sees both.
        self.status().renders_finished.fetch_add(1, Ordering::Release);
    }

    /// Files for the source and the take, an entry in the history, no more pending render, the
    /// manifest into the state. The files are complete on disk before the state names them.
    fn save_take(&mut self, job: &ActiveJob, audio: &Arc<Audio>) -> Result<(), String> {
        let source_file = self.store(&job.source.audio)?;
        let take_file = self.store(audio)?;
        let strength = job.source.strength.iter().sum::<f32>() / job.source.strength.len().max(1) as f32;
        // The latest capture is the source (another may have completed while this one rendered).
        let latest = self.source.clone().unwrap_or_else(|| job.source.clone());
        self.manifest.source = Some(self.source_entry(&latest)?);
        self.manifest.pending = None;
        self.manifest.history.push(TakeEntry {
            id: job.take_id,
            file: take_file,
            source_sha256: source_file.sha256,
            start_pos: job.source.start_pos,
            mode: job.choice.mode.name().into(),
            seed: job.choice.seed,
            steps: job.choice.steps,
            sampler: job.choice.sampler.name().into(),
            strength: if job.choice.mode == ModeKind::Generation { 1.0 } else { strength },
            kept: false,
        });
        self.manifest.current = Some(job.take_id);
        self.trim_history();
        self.publish();
        Ok(())
    }

    fn trim_history(&mut self) {
        let unkept: Vec<u64> = self.manifest.history.iter().filter(|t| !t.kept).map(|t| t.id).collect();
        let drop_unkept = unkept.len().saturating_sub(HISTORY_UNKEPT);
        let kept: Vec<u64> = self.manifest.history.iter().filter(|t| t.kept).map(|t| t.id).collect();
        let drop_kept = kept.len().saturating_sub(MAX_KEPT);
        let gone: Vec<u64> = unkept[..drop_unkept].iter().chain(&kept[..drop_kept]).copied().collect();
        self.manifest.history.retain(|t| !gone.contains(&t.id) || Some(t.id) == self.manifest.current);
    }

    /// The manifest into the plugin state (not a load: no restore follows).
    fn publish(&self) {
        *self.shared.saved.lock() = self.manifest.to_value();
    }

    fn keep(&mut self) {
        let Some(id) = self.manifest.current else {
            self.complain("No take to keep yet.");
            return;
        };
        if let Some(t) = self.manifest.history.iter_mut().find(|t| t.id == id) {
            t.kept = true;
        }
        self.publish();
        self.say(format!("Take {id} kept: it stays with the project."));
    }

    /// Makes a take of the history the current one and streams it to the audio thread.
    fn select_take(&mut self, id: u64) {
        if self.job.is_some() {
            self.complain("A render is running: wait for it or cancel it before picking another take.");
            return;
        }
        let Some(entry) = self.manifest.history.iter().find(|t| t.id == id).cloned() else {
            self.complain(format!("Take {id} is no longer in the history."));
            return;
        };
        match files::load(&self.config.data_dir, &entry.file) {
            Ok(audio) => {
                let audio = Arc::new(audio);
                self.outbox.clear();
                self.take = Some((id, audio.clone()));
                self.stream_whole(id, &audio, entry.start_pos);
                self.pump();
                self.say(format!("Playing take {id}."));
                self.manifest.current = Some(id);
                self.publish();
            }
            Err(e) => self.complain(format!("Take {id} could not be loaded: {e}")),
        }
    }

    fn export(&mut self) {
        let (Some(entry), Some((id, audio))) = (self.manifest.current_take().cloned(), self.take.clone()) else {
            self.complain("No take to export yet.");
            return;
        };
        debug_assert_eq!(entry.id, id);
        let track = self.shared.track_name.lock().clone();
        let name = export::file_name(track.as_deref(), &entry);
        match export::export(&self.config.export_dir, &name, &audio) {
            Ok(path) => self.say(format!("Exported take {id} to {}", path.display())),
            Err(e) => self.complain(format!("Export failed: {e}")),
        }
    }

    /// The host loaded a state: bring back its source and take.
    fn check_restore(&mut self) {
        let requested = self.status().restore_requested.load(Ordering::Acquire);
        if requested == self.restore_seen {
            return;
        }
        self.restore_seen = requested;
        let value = self.shared.saved.lock().clone();
        match Manifest::parse(&value) {
            Ok(None) => self.clear_takes(),
            Err(e) => {
                self.clear_takes();
                self.complain(format!("{e}; starting without saved takes (settings are kept)."));
            }
            Ok(Some(manifest)) => self.restore(manifest),
        }
        self.pump();
        self.status().restore_seen.store(requested, Ordering::Release);
    }

    fn clear_takes(&mut self) {
        if let Some(job) = self.job.take() {
            job.handle.cancel();
        }
        self.source = None;
        self.stored.clear();
        self.take = None;
        self.manifest = Manifest::default();
        self.outbox.clear();
        if self.ends.is_some() {
            // An empty take replaces whatever the audio thread plays.
            self.outbox.begin(self.next_take_id, 0, Placement::Free);
            self.next_take_id += 1;
            self.outbox.end();
        }
    }

    fn restore(&mut self, manifest: Manifest) {
        self.clear_takes();
        let dir = self.config.data_dir.clone();
        let mut problems = Vec::new();
        if let Some(src) = &manifest.source {
            match files::load(&dir, &src.file) {
                Ok(audio) => {
                    let audio = Arc::new(audio);
                    self.remember(&audio, &src.file);
                    self.source = Some(Source { audio, start_pos: src.start_pos, strength: src.strength.clone() });
                }
                Err(e) => problems.push(format!("source: {e}")),
            }
        }
        if let Some(entry) = manifest.current_take().cloned() {
            match files::load(&dir, &entry.file) {
                Ok(audio) => {
                    let audio = Arc::new(audio);
                    self.take = Some((entry.id, audio.clone()));
                    self.stream_whole(entry.id, &audio, entry.start_pos);
                }
                Err(e) => problems.push(format!("take {}: {e}", entry.id)),
            }
        }
        self.next_take_id = manifest.history.iter().map(|t| t.id + 1).max().unwrap_or(1).max(self.next_take_id);
        // A capture saved before its render finished: render it again (its source was saved first).
        let resume = manifest.pending.as_ref().map(|p| match (&manifest.source, &self.source) {
            (Some(src), Some(loaded)) if src == &p.source => pending::resume_loaded(loaded, p),
            _ => pending::resume(&dir, p),
        });
        self.manifest = manifest;
        let resumed = match resume {
            Some(Ok((source, choice))) => {
                self.start_render(source, choice, true);
                true
            }
            Some(Err(e)) => {
                problems.push(format!("the capture saved before its render finished cannot be rendered again: {e}"));
                false
            }
            None => false,
        };
        if !problems.is_empty() {
            let then = if resumed { " Re-rendering the capture saved before the render finished." } else { "" };
            self.complain(format!("Some saved audio could not be restored: {}.{then}", problems.join("; ")));
        } else if !resumed && let Some((id, _)) = &self.take {
            self.say(format!("Take {id} restored."));
        }
    }

    fn pump(&mut self) {
        if let Some(ends) = self.ends.as_mut() {
            self.outbox.pump(ends);
        }
        let streaming = self.job.is_some() || (self.ends.is_some() && !self.outbox.is_empty());
        self.shared.status.streaming.store(streaming, Ordering::Release);
    }
}

/// A capture position at `from` Hz, as a placement at `to` Hz.
fn placement(start_pos: Option<i64>, from: u32, to: u32) -> Placement {
    match start_pos {
        Some(p) if from == to => Placement::At(p),
        Some(p) => Placement::At((p as f64 * to as f64 / from as f64).round() as i64),
        None => Placement::Free,
    }
}
