//! The bridge thread: polls the audio thread's queue and the engine's job events, streams takes into
//! the rings and tells the status what happened. Polls rather than being woken, so the audio thread
//! never makes a system call to reach it. What is kept (source, takes, history, files, manifest) is
//! the take library's ([`super::takes`]); this loop only moves messages between it, the engine and
//! the rings.

use super::BridgeConfig;
use super::job::{self, Source};
use super::outbox::Outbox;
use super::pace::Pace;
use super::takes::Takes;
use crate::boundary::{BridgeCommand, BridgeEnds, MAX_CAPTURE_SECONDS, Placement, RenderChoice, ToBridge};
use crate::shared::Shared;
use crate::state::journal;
use crate::state::manifest::TakesManifest;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use redance_engine::{Audio, EngineError, JobEvent, JobHandle};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Poll intervals while something is moving, and while idle.
const POLL_BUSY: Duration = Duration::from_millis(1);
const POLL_IDLE: Duration = Duration::from_millis(5);
/// The rate assumed for a take before the first activation says the host's.
const RATE_BEFORE_ACTIVATION: u32 = 48_000;
/// The layout assumed for a take before the first activation says the host's.
const CHANNELS_BEFORE_ACTIVATION: usize = 2;

/// The render in progress.
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

/// One instance's bridge thread; see the module docs.
pub struct BridgeThread {
    config: BridgeConfig,
    shared: Arc<Shared>,
    owner: u64,
    /// This activation's ring ends; `None` while deactivated.
    ends: Option<BridgeEnds>,
    /// Take audio on its way into the rings.
    outbox: Outbox,
    /// Source, take, history and their files.
    takes: Takes,
    job: Option<ActiveJob>,
    /// The last state load handled (see `Status::restore_requested`).
    restore_seen: u64,
    /// The last "Render on" setting applied (see `Shared::render_on_requested`).
    render_on_seen: u64,
    /// The host's processing pace: tells Ardour's free-wheeling export from real-time playback.
    pace: Pace,
    /// The last journal write failed (said once, not at every change).
    journal_failed: bool,
}

impl BridgeThread {
    /// The thread's state for instance `owner`; [`BridgeThread::run`] is the thread.
    pub fn new(config: BridgeConfig, shared: Arc<Shared>, owner: u64) -> Self {
        let pace = Pace::new(&shared.status);
        let takes = Takes::new(config.data_dir.clone(), config.export_dir.clone(), journal::instance_id(&shared));
        *shared.journal_id.lock() = Some(takes.journal_id().to_owned());
        Self {
            config,
            shared,
            owner,
            ends: None,
            outbox: Outbox::default(),
            takes,
            job: None,
            restore_seen: 0,
            render_on_seen: 0,
            pace,
            journal_failed: false,
        }
    }

    /// The loop, until [`BridgeCommand::Shutdown`] or the plugin's side is gone.
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
            self.check_render_on();
            self.pump();
            self.check_pace();
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
            BridgeCommand::Attach(ends) => {
                self.attach(*ends);
                // The take is in the new rings before the audio thread hears the attach was handled.
                self.pump();
                self.status().attaches_handled.fetch_add(1, Ordering::AcqRel);
            }
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
        self.ends.as_ref().map_or(CHANNELS_BEFORE_ACTIVATION, |e| e.config.num_channels)
    }

    /// Logs when the host starts or stops bouncing faster than real time (what it tells the plugin
    /// then, for the README's table of hosts).
    fn check_pace(&mut self) {
        if !self.config.detect_freewheel {
            return;
        }
        let Some(rate) = self.ends.as_ref().map(|e| e.config.sample_rate) else { return };
        let status = &self.shared.status;
        if let Some((fast, ratio)) = self.pace.update(status, rate) {
            let (playing, pos) = (
                status.transport_playing.load(Ordering::Relaxed),
                status.transport_pos_samples.load(Ordering::Relaxed),
            );
            let offline = status.host_offline.load(Ordering::Relaxed);
            nice_plug::prelude::nice_log!(
                "Redance: the host processes at {ratio:.1}x real time ({}; activated for {} processing, transport {} at {pos})",
                if fast { "bouncing: pending renders are waited for" } else { "real time again" },
                if offline { "offline" } else { "real-time" },
                if playing { "playing" } else { "stopped" },
            );
        }
    }

    /// A new activation: new rings; whatever take there is goes into the new take buffer.
    fn attach(&mut self, ends: BridgeEnds) {
        self.ends = Some(ends);
        self.outbox.clear();
        let rate = self.rate().unwrap_or(RATE_BEFORE_ACTIVATION);
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
        } else if let Some((id, audio)) = self.takes.take().cloned() {
            let start = self.takes.source().and_then(|s| s.start_pos);
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
        // Saved the moment it completes: a project saved from now on holds the capture.
        let saved = self.takes.set_source(source);
        self.publish();
        let cut = if truncated { format!(" (cut to the {MAX_CAPTURE_SECONDS} s maximum)") } else { String::new() };
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

    fn render(&mut self, choice: RenderChoice) {
        let Some(source) = self.takes.source().cloned() else {
            self.complain("Nothing captured yet: press Capture first.");
            return;
        };
        self.start_render(source, choice, false);
    }

    /// Submits the job. `resumed`: a reopened project's pending render; the restored take queued
    /// before it stays queued, so it is held where the new one has not arrived (same region).
    fn start_render(&mut self, source: Source, choice: RenderChoice, resumed: bool) {
        // A "Render on" change made before this render was asked for goes to the engine first (the
        // engine keeps the order), even when both arrive within one turn of the loop.
        self.check_render_on();
        if let Some(old) = self.job.take() {
            old.handle.cancel();
        }
        let previous = self.takes.take().map(|(_, a)| a.clone());
        let (spec, note) = job::spec(&source, &choice, previous);
        let handle = self.config.engine.submit(self.owner, spec);
        let take_id = self.takes.next_id();
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
        let saved = self.takes.mark_pending(&source, &choice);
        self.publish();
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
                    self.takes.clear_pending();
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
        self.status().render_progress.store(1.0, Ordering::Relaxed);
        let saved = self.takes.record(id, &job.source, &job.choice, audio);
        self.publish();
        let resumed = if job.resumed { ": re-rendered from the capture saved before the render finished" } else { "" };
        match saved {
            Ok(()) => self.say(format!("Take {id} ready{resumed} ({seconds:.1} s, {realtime_factor:.1}× real time)")),
            Err(e) => self.complain(format!("Take {id} ready but not saved with the project: {e}")),
        }
        // Counted after the message and the save, so whoever sees the count sees both.
        self.status().renders_finished.fetch_add(1, Ordering::Release);
    }

    /// The manifest into the plugin state (not a load: no restore follows) and the recovery journal.
    fn publish(&mut self) {
        let (value, written) = self.takes.publish();
        *self.shared.saved.lock() = value;
        match written {
            Ok(()) => self.journal_failed = false,
            Err(e) if !self.journal_failed => {
                self.journal_failed = true;
                nice_plug::prelude::nice_log!("Redance: recovery journal not written: {e}");
                self.complain(format!(
                    "The recovery journal could not be written ({e}): save the project to keep this take."
                ));
            }
            Err(_) => {}
        }
    }

    fn keep(&mut self) {
        match self.takes.keep() {
            Some(id) => {
                self.publish();
                self.say(format!("Take {id} kept: it stays with the project."));
            }
            None => self.complain("No take to keep yet."),
        }
    }

    /// Makes a take of the history the current one and streams it to the audio thread.
    fn select_take(&mut self, id: u64) {
        if self.job.is_some() {
            self.complain("A render is running: wait for it or cancel it before picking another take.");
            return;
        }
        match self.takes.select(id) {
            Ok((audio, start_pos)) => {
                self.outbox.clear();
                self.stream_whole(id, &audio, start_pos);
                self.pump();
                self.say(format!("Playing take {id}."));
                self.publish();
            }
            Err(e) => self.complain(e),
        }
    }

    fn export(&mut self) {
        let track = self.shared.track_name.lock().clone();
        match self.takes.export(track.as_deref()) {
            Ok((id, path)) => self.say(format!("Exported take {id} to {}", path.display())),
            Err(e) => self.complain(e),
        }
    }

    /// The project's "Render on" setting was loaded or changed: tell the engine (shared by every
    /// instance in the process: the last applied wins). A server is checked now, in the engine's
    /// background, so the editor can say whether it is reachable before the next render.
    fn check_render_on(&mut self) {
        let requested = self.shared.render_on_requested.load(Ordering::Acquire);
        if requested == self.render_on_seen {
            return;
        }
        self.render_on_seen = requested;
        let render_on = self.shared.render_on.lock().clone();
        // No message when it works: the editor shows where renders go, and a state load's own
        // message (takes restored or not) must not be overwritten.
        match render_on.server_options() {
            Ok(None) => self.config.engine.set_server(None),
            Ok(Some(server)) => {
                self.config.engine.set_server(Some(server));
                self.config.engine.preload();
            }
            Err(e) => self.complain(format!("Render on: {e}; renders stay where they were.")),
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
        match TakesManifest::parse(&value) {
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
        self.takes.clear();
        self.outbox.clear();
        if self.ends.is_some() {
            // An empty take replaces whatever the audio thread plays.
            let id = self.takes.next_id();
            self.outbox.begin(id, 0, Placement::Free);
            self.outbox.end();
        }
    }

    fn restore(&mut self, manifest: TakesManifest) {
        self.clear_takes();
        let loaded_journal = manifest.journal.as_ref().map(|t| t.id.clone());
        let restored = self.takes.restore(manifest);
        *self.shared.journal_id.lock() = Some(self.takes.journal_id().to_owned());
        // The state holds what the journal brought back, and names this instance's journal (not the
        // one of the instance it was copied from); otherwise it stays as loaded.
        if restored.recovered || loaded_journal.is_some_and(|id| id != self.takes.journal_id()) {
            self.publish();
        }
        let mut problems = restored.problems;
        if let Some((id, audio, start_pos)) = &restored.take {
            self.stream_whole(*id, audio, *start_pos);
        }
        let resumed = match restored.resume {
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
        } else if restored.recovered {
            let what = match (resumed, self.takes.take()) {
                (true, _) => "the capture; re-rendering it".to_string(),
                (false, Some((id, _))) => format!("take {id}"),
                (false, None) => "the capture".to_string(),
            };
            nice_plug::prelude::nice_log!("Redance: recovered {what} from the recovery journal");
            self.say(format!("Recovered {what}: made after the project was last saved (save it to keep it)."));
        } else if !resumed && let Some((id, _)) = self.takes.take() {
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
