//! The engine: one background worker per process, fed by a `crossbeam-channel`, shared by every
//! plugin instance and the CLI. The model loads lazily on the worker at the first job, so creating an
//! engine (and a plugin instance) costs nothing. Jobs from different owners are served round-robin;
//! a job's failure or panic fails that job only.

use crate::audio::Audio;
use crate::denoiser::Denoiser;
use crate::error::{EngineError, Result};
use crate::job::{JobSpec, RenderObserver, render};
use crate::model::{ModelInfo, ModelSource, OrtDenoiser, Runtime, RuntimeSearch, SessionOptions};
use crossbeam_channel::{Receiver, Sender, unbounded};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Instant;

#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    pub runtime: RuntimeSearch,
    pub model: ModelSource,
    pub session: SessionOptions,
}

impl EngineConfig {
    /// The built-in model on the CPU, with spinning threads: benchmarks, examples and tests.
    pub fn cpu() -> Self {
        Self {
            session: SessionOptions {
                provider: crate::model::ProviderChoice::Cpu,
                allow_spinning: true,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// Defaults, adjusted by `REDANCE_MODEL` (a model folder), `REDANCE_PROVIDER` (cpu|cuda|auto),
    /// `REDANCE_PRECISION` (auto|fp32|fp16) and `REDANCE_THREADS`. `ORT_DYLIB_PATH` is read by the runtime search itself.
    pub fn from_env() -> Self {
        let mut config = Self::default();
        if let Some(p) = std::env::var_os("REDANCE_MODEL").filter(|p| !p.is_empty()) {
            config.model = ModelSource::Path(p.into());
        }
        if let Some(p) = std::env::var("REDANCE_PROVIDER").ok().and_then(|p| p.parse().ok()) {
            config.session.provider = p;
        }
        if let Some(p) = std::env::var("REDANCE_PRECISION").ok().and_then(|p| p.parse().ok()) {
            config.session.precision = p;
        }
        config.session.intra_threads = std::env::var("REDANCE_THREADS").ok().and_then(|t| t.parse().ok());
        config
    }
}

/// Builds the model behind the engine; tests swap in fakes.
pub type BackendFactory = Box<dyn Fn(&EngineConfig) -> Result<Backend> + Send>;

pub struct Backend {
    pub denoiser: Box<dyn Denoiser>,
    pub runtime: Option<Runtime>,
    /// Where the model came from, in words.
    pub origin: String,
    /// Why CUDA was not used, when it could have been.
    pub provider_note: Option<String>,
}

/// Loads the ONNX Runtime library and the configured model.
pub fn ort_backend(config: &EngineConfig) -> Result<Backend> {
    let runtime = config.runtime.load()?;
    let (denoiser, origin) = OrtDenoiser::load(&config.model, &config.session)?;
    let provider_note = denoiser.provider_note().map(str::to_owned);
    Ok(Backend { denoiser: Box::new(denoiser), runtime: Some(runtime), origin, provider_note })
}

/// What the engine can tell a status line.
#[derive(Debug, Clone, Default)]
pub struct EngineStatus {
    pub runtime: Option<Runtime>,
    pub model: Option<ModelInfo>,
    pub model_origin: Option<String>,
    pub device: Option<String>,
    pub provider_note: Option<String>,
    /// Why the runtime or model could not be loaded, in plain words.
    pub error: Option<String>,
    pub loading: bool,
    pub queued_jobs: usize,
}

#[derive(Debug)]
pub enum JobEvent {
    Started {
        device: String,
        windows: usize,
        calls: usize,
    },
    /// Final audio for output frames `[offset, offset + frames)` at the source's rate and layout.
    Chunk {
        offset: usize,
        audio: Audio,
    },
    Finished {
        audio: Arc<Audio>,
        seconds: f64,
        realtime_factor: f64,
        device: String,
    },
    Failed(String),
    Cancelled,
}

/// Progress counters, readable from any thread without locking.
#[derive(Debug, Default)]
pub struct JobProgress {
    pub calls_done: AtomicUsize,
    pub calls_total: AtomicUsize,
    pub windows_done: AtomicUsize,
    pub windows_total: AtomicUsize,
}

impl JobProgress {
    pub fn fraction(&self) -> f32 {
        let total = self.calls_total.load(Ordering::Relaxed);
        if total == 0 { 0.0 } else { self.calls_done.load(Ordering::Relaxed) as f32 / total as f32 }
    }
}

pub struct JobHandle {
    pub id: u64,
    pub events: Receiver<JobEvent>,
    pub progress: Arc<JobProgress>,
    cancel: Arc<AtomicBool>,
}

impl JobHandle {
    /// Stops the job before its next model call.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Waits for the end of the job, collecting its output. Convenience for the CLI and tests.
    pub fn wait(&self) -> Result<Arc<Audio>> {
        for event in self.events.iter() {
            match event {
                JobEvent::Finished { audio, .. } => return Ok(audio),
                JobEvent::Failed(msg) => return Err(EngineError::Failed(msg)),
                JobEvent::Cancelled => return Err(EngineError::Cancelled),
                _ => {}
            }
        }
        Err(EngineError::Internal("the engine stopped".into()))
    }
}

struct Queued {
    id: u64,
    owner: u64,
    spec: JobSpec,
    events: Sender<JobEvent>,
    progress: Arc<JobProgress>,
    cancel: Arc<AtomicBool>,
}

enum Command {
    Submit(Box<Queued>),
    SetModel(ModelSource),
    Preload,
}

struct Shared {
    status: Mutex<EngineStatus>,
    /// Cancel flags of queued and running jobs, by id, with their owner.
    jobs: Mutex<HashMap<u64, (u64, Arc<AtomicBool>)>>,
    next_id: AtomicU64,
}

pub struct Engine {
    shared: Arc<Shared>,
    /// Set on first use: creating an engine starts no thread and loads nothing.
    worker: OnceLock<(Sender<Command>, JoinHandle<()>)>,
    config: Mutex<Option<(EngineConfig, BackendFactory)>>,
}

static GLOBAL: OnceLock<Engine> = OnceLock::new();

impl Engine {
    pub fn new(config: EngineConfig) -> Self {
        Self::with_backend(config, Box::new(ort_backend))
    }

    pub fn with_backend(config: EngineConfig, factory: BackendFactory) -> Self {
        Self {
            shared: Arc::new(Shared {
                status: Mutex::new(EngineStatus::default()),
                jobs: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
            }),
            worker: OnceLock::new(),
            config: Mutex::new(Some((config, factory))),
        }
    }

    /// The process's engine, configured from the environment on first use.
    pub fn global() -> &'static Engine {
        GLOBAL.get_or_init(|| Engine::new(EngineConfig::from_env()))
    }

    fn sender(&self) -> &Sender<Command> {
        &self
            .worker
            .get_or_init(|| {
                let (config, factory) = self.config.lock().take().expect("worker starts once");
                let (tx, rx) = unbounded();
                let shared = self.shared.clone();
                let handle = std::thread::Builder::new()
                    .name("redance-engine".into())
                    .spawn(move || Worker::new(config, factory, shared).run(rx))
                    .expect("cannot start the engine thread");
                (tx, handle)
            })
            .0
    }

    /// Queues a job for `owner` (a plugin instance, or 0). Events and progress come through the handle.
    pub fn submit(&self, owner: u64, spec: JobSpec) -> JobHandle {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = unbounded();
        let progress = Arc::new(JobProgress::default());
        let cancel = Arc::new(AtomicBool::new(false));
        self.shared.jobs.lock().insert(id, (owner, cancel.clone()));
        let queued = Queued { id, owner, spec, events: tx, progress: progress.clone(), cancel: cancel.clone() };
        if let Err(e) = self.sender().send(Command::Submit(Box::new(queued))) {
            let Command::Submit(q) = e.into_inner() else { unreachable!() };
            let _ = q.events.send(JobEvent::Failed("the render engine has stopped".into()));
        }
        JobHandle { id, events: rx, progress, cancel }
    }

    /// Cancels every queued and running job of `owner` (an instance being removed).
    pub fn cancel_owner(&self, owner: u64) {
        for (o, flag) in self.shared.jobs.lock().values() {
            if *o == owner {
                flag.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Switches models; the new one loads on the worker before the next job.
    pub fn set_model(&self, source: ModelSource) {
        let _ = self.sender().send(Command::SetModel(source));
    }

    /// Loads the runtime and model now, in the background, so the first render starts at once.
    pub fn preload(&self) {
        let _ = self.sender().send(Command::Preload);
    }

    pub fn status(&self) -> EngineStatus {
        self.shared.status.lock().clone()
    }
}

struct Worker {
    config: EngineConfig,
    factory: BackendFactory,
    shared: Arc<Shared>,
    backend: Option<Backend>,
    queues: BTreeMap<u64, VecDeque<Box<Queued>>>,
    last_owner: Option<u64>,
}

impl Worker {
    fn new(config: EngineConfig, factory: BackendFactory, shared: Arc<Shared>) -> Self {
        Self { config, factory, shared, backend: None, queues: BTreeMap::new(), last_owner: None }
    }

    fn run(mut self, rx: Receiver<Command>) {
        loop {
            if self.queues.is_empty() {
                match rx.recv() {
                    Ok(cmd) => self.handle(cmd),
                    Err(_) => return,
                }
            }
            while let Ok(cmd) = rx.try_recv() {
                self.handle(cmd);
            }
            if let Some(job) = self.next_job() {
                self.run_job(*job);
            }
            self.shared.status.lock().queued_jobs = self.queues.values().map(VecDeque::len).sum();
        }
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Submit(job) => self.queues.entry(job.owner).or_default().push_back(job),
            Command::SetModel(source) => {
                if source != self.config.model {
                    self.config.model = source;
                    self.backend = None;
                    let _ = self.ensure_backend();
                }
            }
            Command::Preload => {
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

    fn ensure_backend(&mut self) -> Result<(), String> {
        if self.backend.is_some() {
            return Ok(());
        }
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
                self.backend = Some(backend);
                Ok(())
            }
            Err(e) => {
                let msg = e.to_string();
                tracing::warn!("{msg}");
                status.error = Some(msg.clone());
                status.model = None;
                Err(msg)
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
                Err(msg) => Err(EngineError::Failed(msg)),
                Ok(()) => {
                    let backend = self.backend.as_mut().expect("backend loaded");
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
            Err(EngineError::Failed(msg)) => JobEvent::Failed(msg),
            Err(e) => JobEvent::Failed(e.to_string()),
        };
        let _ = events.send(event);
        self.shared.jobs.lock().remove(&id);
    }
}

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
