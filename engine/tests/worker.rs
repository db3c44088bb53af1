//! The shared engine with fake backends: streaming events, progress, cancellation, failures and
//! panics that fail one job only, fairness between owners, and lazy loading.

mod common;

use common::chord;
use redance_engine::JobEvent;
use redance_engine::backend::remote::ServerOptions;
use redance_engine::backend::{Backend, BackendFactory};
use redance_engine::denoiser::Denoiser;
use redance_engine::denoiser::fake::{Failing, Panicking, Slow, Zero, info};
use redance_engine::{Engine, EngineConfig, EngineError, JobSpec, Mode, RenderSettings, StrengthCurve};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::time::Duration;

fn factory(make: fn() -> Box<dyn Denoiser>) -> BackendFactory {
    Box::new(move |_| Ok(Backend { denoiser: make(), runtime: None, origin: "test".into(), provider_note: None }))
}

fn job(frames: usize, strength: f32, steps: u32) -> JobSpec {
    JobSpec {
        mode: Mode::Variation,
        source: Arc::new(chord(48_000, frames)),
        strength: StrengthCurve::constant(strength),
        settings: RenderSettings { steps, ..Default::default() },
        noise: None,
    }
}

#[test]
fn a_job_streams_chunks_then_finishes() {
    let engine = Engine::with_backend(EngineConfig::default(), factory(|| Box::new(Zero(info(4096)))));
    let handle = engine.submit(1, job(20_000, 0.5, 8));
    let mut covered = 0;
    let mut started = false;
    for event in handle.events.iter() {
        match event {
            JobEvent::Started { windows, .. } => {
                started = true;
                assert!(windows > 1);
            }
            JobEvent::Chunk { offset, audio } => {
                assert_eq!(offset, covered);
                covered += audio.frames();
            }
            JobEvent::Finished { audio, .. } => {
                assert_eq!(audio.frames(), 20_000);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(started);
    assert_eq!(covered, 20_000);
    assert_eq!(handle.progress.fraction(), 1.0);
    assert_eq!(engine.status().model.unwrap().name, "fake");
}

#[test]
fn failures_and_panics_fail_one_job_and_the_engine_lives_on() {
    let engine = Engine::with_backend(EngineConfig::default(), factory(|| Box::new(Failing(info(4096)))));
    let err = engine.submit(1, job(3000, 0.5, 4)).wait().unwrap_err();
    assert!(err.to_string().contains("always fails"), "{err}");

    let engine = Engine::with_backend(EngineConfig::default(), factory(|| Box::new(Panicking(info(4096)))));
    let err = engine.submit(1, job(3000, 0.5, 4)).wait().unwrap_err();
    assert!(err.to_string().contains("crashed"), "{err}");
    // The worker survived the panic and serves the next job (strength 0 needs no model call).
    assert!(engine.submit(1, job(3000, 0.0, 4)).wait().is_ok());
}

#[test]
fn a_backend_that_cannot_load_reports_why_in_status_and_job() {
    let engine = Engine::with_backend(
        EngineConfig::default(),
        Box::new(|_| Err(EngineError::RuntimeMissing { searched: "nowhere".into() })),
    );
    let err = engine.submit(1, job(3000, 0.5, 4)).wait().unwrap_err();
    assert!(err.to_string().contains("ONNX Runtime library not found"), "{err}");
    assert!(engine.status().error.unwrap().contains("cargo xtask fetch-ort"));
}

#[test]
fn cancelling_an_owner_stops_its_running_and_queued_jobs() {
    let engine = Engine::with_backend(
        EngineConfig::default(),
        factory(|| Box::new(Slow(info(4096), Duration::from_millis(20)))),
    );
    let running = engine.submit(7, job(40_000, 1.0, 50));
    let queued = engine.submit(7, job(4000, 1.0, 50));
    let other = engine.submit(8, job(4000, 0.0, 50));
    while running.progress.calls_done.load(Ordering::Relaxed) < 2 {
        std::thread::sleep(Duration::from_millis(5));
    }
    engine.cancel_owner(7);
    assert!(matches!(running.wait(), Err(EngineError::Cancelled)));
    assert!(matches!(queued.wait(), Err(EngineError::Cancelled)));
    assert!(other.wait().is_ok(), "another owner's job is untouched");
    // Stopped part way (not a measure of speed: the job had 500 calls of 20 ms to make).
    let (done, total) =
        (running.progress.calls_done.load(Ordering::Relaxed), running.progress.calls_total.load(Ordering::Relaxed));
    assert!(done < total, "the cancelled job ran to the end: {done} of {total} calls");
}

#[test]
fn owners_are_served_round_robin() {
    // The model records the length of each call; every job here has its own length.
    static CALLS: parking_lot::Mutex<Vec<usize>> = parking_lot::Mutex::new(Vec::new());
    struct Recording(redance_engine::ModelInfo);
    impl Denoiser for Recording {
        fn info(&self) -> &redance_engine::ModelInfo {
            &self.0
        }
        fn predict_v(&mut self, _: &[f32], _: &[f32], frames: usize, v: &mut [f32]) -> redance_engine::Result<()> {
            CALLS.lock().push(frames);
            std::thread::sleep(Duration::from_millis(2));
            v.fill(0.0);
            Ok(())
        }
    }
    let engine = Engine::with_backend(EngineConfig::default(), factory(|| Box::new(Recording(info(4096)))));
    // Owner 1 queues three jobs before owner 2 queues one: owner 2 goes second, not last.
    let a: Vec<_> = [1008, 1104, 1200].map(|n| engine.submit(1, job(n, 0.9, 5))).into_iter().collect();
    let b = engine.submit(2, job(1312, 0.9, 5));
    for h in a.iter().chain([&b]) {
        h.wait().unwrap();
    }
    let mut order: Vec<usize> = Vec::new();
    for n in CALLS.lock().iter() {
        if order.last() != Some(n) {
            order.push(*n);
        }
    }
    assert_eq!(order, vec![1008, 1312, 1104, 1200]);
}

#[test]
fn switching_the_render_server_builds_the_backend_again_for_it() {
    let engine = Engine::with_backend(
        EngineConfig::default(),
        Box::new(|config: &EngineConfig| {
            let origin = config.server.as_ref().map_or("here".into(), |s| s.url.clone());
            Ok(Backend { denoiser: Box::new(Zero(info(4096))), runtime: None, origin, provider_note: None })
        }),
    );
    // Renders once; where the backend that rendered it came from.
    let render_origin = |engine: &Engine| {
        engine.submit(1, job(1000, 0.3, 4)).wait().unwrap();
        engine.status().model_origin.unwrap()
    };
    let gpu = || Some(ServerOptions::new("gpu.lan:8000").unwrap());
    assert_eq!(render_origin(&engine), "here");
    engine.set_server(gpu());
    assert_eq!(render_origin(&engine), "http://gpu.lan:8000");
    engine.set_server(None);
    assert_eq!(render_origin(&engine), "here");
    // Switching forgets what the old backend was (a status line must not name the old server).
    engine.set_server(gpu());
    assert_eq!(render_origin(&engine), "http://gpu.lan:8000");
    engine.set_server(None);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while engine.status().model_origin.is_some() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(engine.status().model_origin.is_none() && engine.status().device.is_none());
}

#[test]
fn creating_an_engine_loads_nothing() {
    static LOADS: AtomicUsize = AtomicUsize::new(0);
    let engine = Engine::with_backend(
        EngineConfig::default(),
        Box::new(|_| {
            LOADS.fetch_add(1, Ordering::SeqCst);
            Ok(Backend { denoiser: Box::new(Zero(info(4096))), runtime: None, origin: "t".into(), provider_note: None })
        }),
    );
    assert_eq!(LOADS.load(Ordering::SeqCst), 0);
    assert!(engine.status().model.is_none());
    engine.submit(1, job(1000, 0.3, 4)).wait().unwrap();
    engine.submit(1, job(1000, 0.3, 4)).wait().unwrap();
    assert_eq!(LOADS.load(Ordering::SeqCst), 1, "the model loads once");
}
