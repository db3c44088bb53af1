//! The engine's worker thread: takes requests, keeps one queue per owner and serves them round-robin,
//! loads the backend when a job needs it, runs each job under `catch_unwind` and reports through the
//! job's channel and counters.

use super::handle::{JobEvent, JobProgress};
use super::{EngineConfig, EngineShared, EngineStatus};
use crate::audio::Audio;
use crate::backend::remote::ServerOptions;
use crate::backend::{Backend, BackendFactory};
use crate::error::{EngineError, Result};
use crate::job::{JobSpec, RenderObserver, render};
use crate::model::ModelSource;
use crossbeam_channel::{Receiver, Sender};
use std::collections::{BTreeMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A job waiting for the worker.
pub(super) struct Queued {
    pub id: u64,
    pub owner: u64,
    pub spec: JobSpec,
    pub events: Sender<JobEvent>,
    pub progress: Arc<JobProgress>,
    pub cancel: Arc<AtomicBool>,
}

/// What the engine's handle asks of its worker thread.
pub(super) enum EngineRequest {
    Submit(Box<Queued>),
    SetModel(ModelSource),
    SetServer(Option<ServerOptions>),
    Preload,
}

/// The worker thread's state.
pub(super) struct Scheduler {
    config: EngineConfig,
    factory: BackendFactory,
    shared: Arc<EngineShared>,
    backend: Option<Backend>,
    queues: BTreeMap<u64, VecDeque<Box<Queued>>>,
    last_owner: Option<u64>,
}

impl Scheduler {
    pub fn new(config: EngineConfig, factory: BackendFactory, shared: Arc<EngineShared>) -> Self {
        Self { config, factory, shared, backend: None, queues: BTreeMap::new(), last_owner: None }
    }

    pub fn run(mut self, rx: Receiver<EngineRequest>) {
        loop {
            if self.queues.is_empty() {
                match rx.recv() {
                    Ok(request) => self.handle(request),
                    Err(_) => return,
                }
            }
            while let Ok(request) = rx.try_recv() {
                self.handle(request);
            }
            if let Some(job) = self.next_job() {
                self.run_job(*job);
            }
            self.shared.status.lock().queued_jobs = self.queues.values().map(VecDeque::len).sum();
        }
    }

    fn handle(&mut self, request: EngineRequest) {
        match request {
            EngineRequest::Submit(job) => self.queues.entry(job.owner).or_default().push_back(job),
            EngineRequest::SetModel(source) => {
                if source != self.config.model {
                    self.config.model = source;
                    self.backend = None;
                    let _ = self.ensure_backend();
                }
            }
            EngineRequest::SetServer(server) => {
                // Not loaded here: connecting may wait for a slow server; the next job does it.
                if server != self.config.server {
                    self.config.server = server;
                    self.backend = None;
                    // The status described the backend just dropped (a server's error, its device):
                    // a status line must not keep blaming a server no longer used.
                    let mut status = self.shared.status.lock();
                    let queued_jobs = status.queued_jobs;
                    *status = EngineStatus { queued_jobs, ..Default::default() };
                }
            }
            EngineRequest::Preload => {
                let _ = self.ensure_backend();
            }
        }
    }

    /// Round-robin over owners: the first owner after the last one served that has work.
    fn next_job(&mut self) -> Option<Box<Queued>> {
        let owner = match self.last_owner {
            Some(last) => self.queues.range(last + 1..).next().or_else(|| self.queues.iter().next()),
            None => self.queues.iter().next(),
        }
        .map(|(o, _)| *o)?;
        let queue = self.queues.get_mut(&owner)?;
        let job = queue.pop_front();
        if queue.is_empty() {
            self.queues.remove(&owner);
        }
        self.last_owner = Some(owner);
        job
    }

    /// The loaded backend, loading it first if needed; the error says why it cannot be loaded.
    fn ensure_backend(&mut self) -> Result<&mut Backend> {
        let backend = match self.backend.take() {
            Some(backend) => backend,
            None => self.load_backend()?,
        };
        Ok(self.backend.insert(backend))
    }

    /// Builds the backend (a panic in the factory is an error) and tells the status what loaded.
    fn load_backend(&mut self) -> Result<Backend> {
        self.shared.status.lock().loading = true;
        let loaded = catch_unwind(AssertUnwindSafe(|| (self.factory)(&self.config)))
            .unwrap_or_else(|p| Err(EngineError::Internal(panic_message(&p))));
        let mut status = self.shared.status.lock();
        status.loading = false;
        match loaded {
            Ok(backend) => {
                status.runtime = backend.runtime.clone();
                status.model = Some(backend.denoiser.info().clone());
                status.model_origin = Some(backend.origin.clone());
                status.device = Some(backend.denoiser.device());
                status.provider_note = backend.provider_note.clone();
                status.error = None;
                tracing::info!(model = %backend.origin, device = %backend.denoiser.device(), "model loaded");
                Ok(backend)
            }
            Err(e) => {
                let msg = e.to_string();
                tracing::warn!("{msg}");
                status.error = Some(msg);
                status.model = None;
                Err(e)
            }
        }
    }

    fn run_job(&mut self, job: Queued) {
        let Queued { id, spec, events, progress, cancel, .. } = job;
        let outcome = if cancel.load(Ordering::Relaxed) {
            Err(EngineError::Cancelled)
        } else if let Err(e) = spec.validate() {
            Err(e)
        } else {
            match self.ensure_backend() {
                Err(e) => Err(e),
                Ok(backend) => {
                    let device = backend.denoiser.device();
                    let started = Instant::now();
                    let mut observer = Observer {
                        events: &events,
                        progress: &progress,
                        cancel: &cancel,
                        device: &device,
                        started: false,
                    };
                    let result =
                        catch_unwind(AssertUnwindSafe(|| render(&spec, backend.denoiser.as_mut(), &mut observer)));
                    let result = match result {
                        Ok(r) => r,
                        Err(p) => {
                            // The model may be in any state after a panic: load it afresh next time.
                            self.backend = None;
                            Err(EngineError::Internal(panic_message(&p)))
                        }
                    };
                    result.map(|audio| {
                        let seconds = started.elapsed().as_secs_f64();
                        let realtime_factor = audio.duration_s() / seconds.max(1e-9);
                        JobEvent::Finished { audio: Arc::new(audio), seconds, realtime_factor, device }
                    })
                }
            }
        };
        let event = match outcome {
            Ok(finished) => finished,
            Err(EngineError::Cancelled) => JobEvent::Cancelled,
            Err(e) => JobEvent::Failed(e),
        };
        let _ = events.send(event);
        self.shared.jobs.lock().remove(&id);
    }
}

/// Turns the render's callbacks into the job's events and counters.
struct Observer<'a> {
    events: &'a Sender<JobEvent>,
    progress: &'a JobProgress,
    cancel: &'a AtomicBool,
    device: &'a str,
    started: bool,
}

impl RenderObserver for Observer<'_> {
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
    fn planned(&mut self, windows: usize, calls: usize) {
        self.progress.windows_total.store(windows, Ordering::Relaxed);
        self.progress.calls_total.store(calls, Ordering::Relaxed);
        if !self.started {
            self.started = true;
            let _ = self.events.send(JobEvent::Started { device: self.device.to_owned(), windows, calls });
        }
    }
    fn call_done(&mut self) {
        self.progress.calls_done.fetch_add(1, Ordering::Relaxed);
    }
    fn window_done(&mut self, _index: usize) {
        self.progress.windows_done.fetch_add(1, Ordering::Relaxed);
    }
    fn chunk(&mut self, offset: usize, audio: Audio) {
        let _ = self.events.send(JobEvent::Chunk { offset, audio });
    }
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    let what = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("the render crashed ({what})")
}
