//! The engine: one background worker per process, fed by a `crossbeam-channel`, shared by every
//! plugin instance and the CLI. The model loads lazily on the worker at the first job, so creating an
//! engine (and a plugin instance) costs nothing. Jobs from different owners are served round-robin;
//! a job's failure or panic fails that job only.
//!
//! [`config`] says what to load, [`crate::backend`] loads it, [`handle`] is a job as its submitter
//! sees it, and the scheduler (private) is the worker thread itself.

pub mod config;
pub mod handle;
mod scheduler;

pub use crate::backend::{Backend, BackendFactory, default_backend, ort_backend};
pub use config::EngineConfig;
pub use handle::{JobEvent, JobHandle, JobProgress};

use crate::error::EngineError;
use crate::job::JobSpec;
use crate::model::{ModelInfo, ModelSource, Runtime};
use crossbeam_channel::{Sender, unbounded};
use parking_lot::Mutex;
use scheduler::{EngineRequest, Queued, Scheduler};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

/// What the engine can tell a status line.
#[derive(Debug, Clone, Default)]
pub struct EngineStatus {
    /// The ONNX Runtime library in use, once loaded.
    pub runtime: Option<Runtime>,
    /// The loaded model.
    pub model: Option<ModelInfo>,
    /// Where the model came from, in words.
    pub model_origin: Option<String>,
    /// Which device runs the model, in words.
    pub device: Option<String>,
    /// Why CUDA was not used, when it could have been.
    pub provider_note: Option<String>,
    /// Why the runtime or model could not be loaded, in plain words.
    pub error: Option<String>,
    /// The backend is being loaded now.
    pub loading: bool,
    /// Jobs waiting for the worker.
    pub queued_jobs: usize,
}

/// What the engine's handle and its worker thread share.
struct EngineShared {
    status: Mutex<EngineStatus>,
    /// Cancel flags of queued and running jobs, by id, with their owner.
    jobs: Mutex<HashMap<u64, (u64, Arc<AtomicBool>)>>,
    next_id: AtomicU64,
}

/// Runs render jobs on one background thread; see the module docs.
pub struct Engine {
    shared: Arc<EngineShared>,
    /// Set on first use: creating an engine starts no thread and loads nothing.
    worker: OnceLock<(Sender<EngineRequest>, JoinHandle<()>)>,
    /// Taken by the worker thread when it starts.
    config: Mutex<Option<(EngineConfig, BackendFactory)>>,
}

static GLOBAL: OnceLock<Engine> = OnceLock::new();

impl Engine {
    /// An engine running `config` on the local ONNX Runtime backend.
    pub fn new(config: EngineConfig) -> Self {
        Self::with_backend(config, Box::new(default_backend))
    }

    /// An engine whose backend `factory` builds (tests: fakes; a remote backend).
    pub fn with_backend(config: EngineConfig, factory: BackendFactory) -> Self {
        Self {
            shared: Arc::new(EngineShared {
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

    fn sender(&self) -> &Sender<EngineRequest> {
        &self
            .worker
            .get_or_init(|| {
                let (config, factory) = self.config.lock().take().expect("worker starts once");
                let (tx, rx) = unbounded();
                let shared = self.shared.clone();
                let handle = std::thread::Builder::new()
                    .name("redance-engine".into())
                    .spawn(move || Scheduler::new(config, factory, shared).run(rx))
                    .expect("cannot start the engine thread");
                (tx, handle)
            })
            .0
    }

    /// Queues a job for `owner` (a plugin instance, or 0). Events and progress come through the handle.
    pub fn submit(&self, owner: u64, spec: JobSpec) -> JobHandle {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = unbounded();
        let handle = JobHandle { id, events: rx, progress: Default::default(), cancel: Default::default() };
        self.shared.jobs.lock().insert(id, (owner, handle.cancel.clone()));
        let queued =
            Queued { id, owner, spec, events: tx, progress: handle.progress.clone(), cancel: handle.cancel.clone() };
        if let Err(e) = self.sender().send(EngineRequest::Submit(Box::new(queued)))
            && let EngineRequest::Submit(q) = e.into_inner()
        {
            let _ = q.events.send(JobEvent::Failed(EngineError::Stopped));
        }
        handle
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
        let _ = self.sender().send(EngineRequest::SetModel(source));
    }

    /// Renders on this server from the next job on (`None`: on this computer); the backend is
    /// built again, and checked against the server, at that job.
    pub fn set_server(&self, server: Option<crate::backend::remote::ServerOptions>) {
        let _ = self.sender().send(EngineRequest::SetServer(server));
    }

    /// Loads the runtime and model now, in the background, so the first render starts at once.
    pub fn preload(&self) {
        let _ = self.sender().send(EngineRequest::Preload);
    }

    /// What the engine can tell a status line now.
    pub fn status(&self) -> EngineStatus {
        self.shared.status.lock().clone()
    }
}
