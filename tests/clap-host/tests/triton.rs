//! Redance.clap rendering on a real Triton server (what `REDANCE_SERVER` or the editor's Render on
//! row gives a studio): the test writes the repository with `redance model serve-config`, starts the
//! server on 127.0.0.1 on a free port (tests/triton/server.sh) and stops it when done. The plugin's
//! take rendered on the server must equal `redance render --server local` of the same capture.
//!
//! Not part of `cargo test` (it needs the server tests/triton/setup.sh installs and the CLI):
//! scripts/test.sh runs it after the clap-host suite, with REDANCE_CLAP and REDANCE_CLI.

use redance_clap_test::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(600);
/// The bound for a server render against a local one on the same noise.
const TOLERANCE: f32 = 1e-5;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The served model's name: the built-in model's manifest name.
fn model_name() -> String {
    let manifest = std::fs::read_to_string(root().join("models/default/manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    manifest["name"].as_str().unwrap().to_owned()
}

fn cli() -> PathBuf {
    let p = std::env::var_os("REDANCE_CLI").map_or_else(|| root().join("target/release/redance"), PathBuf::from);
    assert!(p.exists(), "{} is missing: build the CLI (cargo build --release -p redance-cli)", p.display());
    p
}

/// A Triton server on 127.0.0.1; its process group is stopped on drop.
struct Triton(Child);

impl Drop for Triton {
    fn drop(&mut self) {
        // bash's own kill: a minimal Debian has no /bin/kill (procps).
        let pid = self.0.id();
        let kill = |signal: &str| {
            let script = format!("kill {signal} -- -{pid}");
            let _ = Command::new("bash").args(["-c", &script]).stderr(Stdio::null()).status();
        };
        kill("-TERM");
        let deadline = Instant::now() + Duration::from_secs(15);
        while matches!(self.0.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        kill("-KILL");
        let _ = self.0.wait();
    }
}

fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).ok()?;
    reply.split_whitespace().nth(1)?.parse().ok()
}

fn start_server(dir: &Path) -> (Triton, u16) {
    let repo = dir.join("repo");
    let o = Command::new(cli())
        .args(["model", "serve-config", "default", "--out"])
        .arg(&repo)
        .args(["--backend", "python", "--cpu"])
        .output()
        .unwrap();
    assert!(o.status.success(), "serve-config: {}", String::from_utf8_lossy(&o.stderr));
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = std::fs::File::create(dir.join("triton.log")).unwrap();
    let child = Command::new(root().join("tests/triton/server.sh"))
        .arg(&repo)
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("tests/triton/server.sh starts");
    let mut server = Triton(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    let ready = format!("/v2/models/{}/ready", model_name());
    while http_status(port, &ready) != Some(200) {
        if let Ok(Some(status)) = server.0.try_wait() {
            let log = std::fs::read_to_string(dir.join("triton.log")).unwrap_or_default();
            panic!("Triton exited ({status}) before it was ready:\n{log}");
        }
        assert!(Instant::now() < deadline, "Triton not ready after 120 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    (server, port)
}

#[test]
fn the_plugin_renders_on_a_triton_server_as_on_this_computer() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, port) = start_server(dir.path());
    // SAFETY: before any plugin thread exists; the shared engine reads it when it first loads.
    unsafe { std::env::set_var("REDANCE_SERVER", format!("http://127.0.0.1:{port}")) };
    let entry = entry(&bundle(TestEngine::Real));
    let (out, bar, arrived) = tones_take(&entry, 9.0, LIMIT);
    assert!(arrived, "the take did not arrive from the server within {LIMIT:?}");

    // The same capture rendered on this computer.
    let args = ["--strength", "0.6", "--steps", "3", "--sampler", "ddim", "--seed", "9", "--server", "local"];
    let (diff, moved) = take_vs_cli(&cli(), &args, &out, bar, &tones_48k);
    println!(
        "plugin take on Triton vs redance render on this computer: max abs diff {diff:.2e} (take vs source {moved:.2})"
    );
    assert!(moved > 0.01, "the take is the source: nothing was rendered");
    assert!(diff <= TOLERANCE, "the server's take differs from the local render by {diff}");
}
