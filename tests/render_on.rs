//! The project's "Render on" setting through the bridge: loading a state that names a server makes
//! the engine use it; while that server is unreachable a render fails in words, audio keeps
//! flowing and the capture is kept; switching to this computer and pressing Render renders it.
//! (A real Triton server is the triton suite's; here the address is a closed loopback port.)
#![allow(clippy::needless_range_loop)] // channels are indexed alongside other per-channel data

mod common;

use common::*;
use nice_plug::params::persist::PersistentField;
use redance::state::render_on::{RenderOn, RenderOnField};
use redance_engine::backend::Backend;
use redance_engine::backend::remote::remote_backend;
use redance_engine::{Engine, EngineConfig};
use std::sync::atomic::Ordering;

/// The real remote backend when a server is set, the zero model on this computer.
fn engine_with_server() -> &'static Engine {
    Box::leak(Box::new(Engine::with_backend(
        EngineConfig::default(),
        Box::new(|config| match &config.server {
            Some(server) => remote_backend(config, server),
            None => Ok(Backend { denoiser: zero(), runtime: None, origin: "fake".into(), provider_note: None }),
        }),
    )))
}

/// A loopback address nothing listens on.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("127.0.0.1:{port}")
}

#[test]
fn unreachable_server_fails_in_words_and_this_computer_renders_the_kept_capture() {
    let engine = engine_with_server();
    let mut rig = Rig::new(engine, 2, 256);
    let url = closed_port();
    // The host loads a project saved with "Render on: Server".
    RenderOnField(rig.shared.clone()).set(RenderOn { server: true, url: url.clone() });
    // The bridge applies it and has the server checked at once: the editor can say it is down.
    rig.pump_until("the server check", |_| engine.status().error.is_some());
    let error = engine.status().error.unwrap();
    assert!(error.contains(&url) && error.contains("not reachable"), "{error}");

    rig.sim = Sim::at(0, TEMPO);
    rig.params.length = 1;
    rig.params.strength = 0.5;
    rig.params.choice.steps = 2;
    rig.capture(256, &signal, false);
    rig.pump_until("the failure", |r| r.status().renders_failed.load(Ordering::Acquire) == 1);
    let msg = rig.status().message();
    assert!(msg.contains("render server") && msg.contains("not reachable"), "{msg}");
    assert!(rig.status().message_is_error.load(Ordering::Acquire));
    let kept = rig.manifest()["source"].clone();
    assert!(kept.get("file").is_some(), "the capture is kept: {}", rig.manifest());
    // Audio keeps flowing: the dry track plays where no take arrived.
    rig.sim = Sim::at(0, TEMPO);
    let out = rig.run(4_096, 256, &|p, c| signal(p, c) * 0.5);
    for (i, s) in out[0].iter().enumerate() {
        assert_eq!(*s, signal(i as i64, 0) * 0.5);
    }

    // The musician picks This computer, Apply, then Render: the kept capture renders here.
    RenderOnField::apply(&rig.shared, RenderOn { server: false, url });
    rig.press_render();
    rig.pump_rendered();
    rig.wait_for("the take", |r| r.status().renders_finished.load(Ordering::Acquire) == 1);
    assert_eq!(rig.manifest()["source"], kept);
    assert!(rig.manifest()["current"].is_number(), "{}", rig.manifest());
}
