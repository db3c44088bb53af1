//! The thread boundary. [`Bridge::spawn`] starts one bridge thread per instance; [`Bridge::attach`]
//! (in `activate`) builds the rings for one activation and returns the audio thread's ends
//! ([`RtLink`]). The bridge turns captures into engine jobs, streams their chunks back, keeps the
//! history and the saved-takes manifest. Dropping the `Bridge` cancels the instance's jobs, stops
//! the thread and frees its buffers.

mod job;
mod outbox;
mod pace;
mod pending;
pub mod takes;
mod thread;

use crate::boundary::{BridgeCommand, HostConfig, RtLink, link};
use crate::shared::Shared;
use crossbeam_channel::{Sender, unbounded};
use redance_engine::Engine;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

/// Where the bridge runs jobs and keeps files.
#[derive(Clone)]
pub struct BridgeConfig {
    /// The engine jobs run on (the process's, or a test's).
    pub engine: &'static Engine,
    /// Where take files are kept.
    pub data_dir: PathBuf,
    /// Where Export writes.
    pub export_dir: PathBuf,
    /// Measure the host's pace and treat one far faster than real time as bouncing offline
    /// (`pace.rs`). Off in test rigs, which drive the audio thread as fast as they can on purpose.
    pub detect_freewheel: bool,
}

impl BridgeConfig {
    /// The process's engine, the platform's data folder. `REDANCE_TEST_ENGINE=zero` swaps in the
    /// engine's do-nothing fake model (host tests: renders at strength 0 return the capture exactly).
    pub fn from_env() -> Self {
        let data_dir = crate::state::files::default_data_dir();
        let export_dir = crate::state::export::default_export_dir(&data_dir);
        let engine = if std::env::var_os("REDANCE_TEST_ENGINE").is_some_and(|v| v == "zero") {
            test_engine()
        } else {
            Engine::global()
        };
        Self { engine, data_dir, export_dir, detect_freewheel: true }
    }
}

/// Owner ids for the engine: one per instance in the process.
static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

/// One instance's bridge thread, from the plugin's side; dropping it stops the thread.
pub struct Bridge {
    tx: Sender<BridgeCommand>,
    /// For the attach count (`Status::attaches_sent`).
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    engine: &'static Engine,
    owner: u64,
}

impl Bridge {
    /// Starts the bridge thread for an instance (not on the audio thread).
    pub fn spawn(config: BridgeConfig, shared: Arc<Shared>) -> Self {
        let owner = NEXT_OWNER.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = unbounded();
        let engine = config.engine;
        let thread = std::thread::Builder::new()
            .name(format!("redance-bridge-{owner}"))
            .spawn({
                let shared = shared.clone();
                move || thread::BridgeThread::new(config, shared, owner).run(rx)
            })
            .expect("cannot start the bridge thread");
        Self { tx, shared, thread: Some(thread), engine, owner }
    }

    /// The engine owner id of this instance.
    pub fn owner(&self) -> u64 {
        self.owner
    }

    /// New rings for a new activation; the old ones are dropped by the bridge.
    pub fn attach(&self, config: HostConfig) -> RtLink {
        let (rt, ends) = link(config);
        // Counted before it is sent: an offline bounce waits until the bridge has re-sent the take.
        self.shared.status.attaches_sent.fetch_add(1, Ordering::Release);
        if self.tx.send(BridgeCommand::Attach(Box::new(ends))).is_err() {
            self.shared.status.attaches_handled.fetch_add(1, Ordering::Release);
        }
        rt
    }

    /// The activation ended: the bridge drops its ring ends.
    pub fn detach(&self) {
        let _ = self.tx.send(BridgeCommand::Detach);
    }

    /// Sends a request to the bridge thread (never blocks).
    pub fn command(&self, command: BridgeCommand) {
        let _ = self.tx.send(command);
    }

    /// A sender for non-audio threads (the editor) to reach this bridge.
    pub fn sender(&self) -> Sender<BridgeCommand> {
        self.tx.clone()
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.engine.cancel_owner(self.owner);
        let _ = self.tx.send(BridgeCommand::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One fake engine per process for host tests (see [`BridgeConfig::from_env`]).
fn test_engine() -> &'static Engine {
    use redance_engine::denoiser::fake;
    static TEST: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    TEST.get_or_init(|| {
        Engine::with_backend(
            redance_engine::EngineConfig::default(),
            Box::new(|_| {
                Ok(redance_engine::backend::Backend {
                    denoiser: Box::new(fake::Zero(fake::info(4096))),
                    runtime: None,
                    origin: "test engine (REDANCE_TEST_ENGINE=zero)".into(),
                    provider_note: None,
                })
            }),
        )
    })
}
