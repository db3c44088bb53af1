//! Rendering on a real Triton Inference Server (tests/triton/setup.sh installs it; tests/triton/run.sh
//! runs this suite): each test writes the model repository with `redance model serve-config`,
//! starts the server on 127.0.0.1 on a free port and stops it when done. Renders through the server
//! equal local ones; a server killed mid-render fails the render in words and a re-render after its
//! restart succeeds; eight renders share one server at once.

use redance_engine::Audio;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The served model's name: the built-in model's manifest name.
fn model_name() -> String {
    redance_engine::ModelSource::Embedded.manifest().unwrap().0.name
}
/// Local and server renders of the same noise may differ by this much (the bound).
const TOLERANCE: f32 = 1e-5;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn redance(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_redance"));
    command.args(args).env_remove("REDANCE_SERVER");
    command
}

fn run(args: &[&str]) -> Output {
    redance(args).output().expect("redance runs")
}

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "redance failed: {}", String::from_utf8_lossy(&o.stderr));
}

/// A Triton server on 127.0.0.1:`port`, serving `repo`; stopped (SIGTERM, then SIGKILL) on drop.
struct Triton {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Triton {
    fn start(repo: &Path, port: u16, log: &Path) -> Triton {
        let out = std::fs::File::create(log).unwrap();
        let child = Command::new(root().join("tests/triton/server.sh"))
            .arg(repo)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            // Its own process group: killing the group takes the backend's Python processes too.
            .process_group(0)
            .spawn()
            .expect("tests/triton/server.sh starts");
        let mut server = Triton { child, port, log: log.to_owned() };
        let deadline = Instant::now() + Duration::from_secs(120);
        let ready = format!("/v2/models/{}/ready", model_name());
        while http_status(port, &ready) != Some(200) {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("Triton exited ({status}) before it was ready:\n{}", server.log_tail());
            }
            assert!(Instant::now() < deadline, "Triton not ready after 120 s:\n{}", server.log_tail());
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// Signals the server's process group (the server and its backend's processes).
    fn signal(&self, signal: &str) {
        let _ =
            // bash's own kill: a minimal Debian has no /bin/kill (procps), and a kill that cannot run
            // would leave the server up and this test waiting on it.
            Command::new("bash")
                .args(["-c", &format!("kill {signal} -- -{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
    }

    /// Kills the server outright, as a crash of the machine would.
    fn kill(&mut self) {
        self.signal("-KILL");
        let _ = self.child.wait();
    }
}

impl Drop for Triton {
    fn drop(&mut self) {
        self.signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(15);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        // Whatever of the group is left after a graceful stop's time.
        self.kill();
    }
}

/// The status code of `GET path` on 127.0.0.1:`port`, `None` when nothing answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    reply.split_whitespace().nth(1)?.parse().ok()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The repository the tests serve: the built-in model on Triton's Python backend (the Triton build
/// PyPI has), CPU instances, dynamic batching.
fn repository(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    assert_ok(&run(&[
        "model",
        "serve-config",
        "default",
        "--out",
        repo.to_str().unwrap(),
        "--backend",
        "python",
        "--cpu",
    ]));
    repo
}

fn clip(dir: &Path) -> PathBuf {
    let path = dir.join("clip.wav");
    // Two render windows at 48 kHz, with an odd length (the last window is padded).
    let frames = 100_000;
    let left: Vec<f32> = (0..frames).map(|i| (i as f32 * 0.031).sin() * 0.4).collect();
    let right: Vec<f32> = (0..frames).map(|i| (i as f32 * 0.017).sin() * 0.3).collect();
    Audio::new(48_000, vec![left, right]).unwrap().write_wav(&path).unwrap();
    path
}

fn max_difference(a: &Path, b: &Path) -> f32 {
    let (a, b) = (Audio::read_wav(a).unwrap(), Audio::read_wav(b).unwrap());
    assert_eq!((a.sample_rate, a.num_channels(), a.frames()), (b.sample_rate, b.num_channels(), b.frames()));
    let mut max = 0.0f32;
    for c in 0..a.num_channels() {
        for (x, y) in a.channels[c].iter().zip(&b.channels[c]) {
            max = max.max((x - y).abs());
        }
    }
    max
}

/// A variation of the clip: 2 windows, 4 model calls each.
fn variation_args<'a>(input: &'a str, output: &'a str, seed: &'a str) -> Vec<&'a str> {
    vec!["render", "-i", input, "-o", output, "--strength", "0.5", "--steps", "8", "--seed", seed]
}

#[test]
fn renders_through_the_server_equal_local_renders() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path());
    let server = Triton::start(&repo, free_port(), &dir.path().join("triton.log"));
    let input = clip(dir.path());
    let (local, remote) = (dir.path().join("local.wav"), dir.path().join("remote.wav"));
    let input = input.to_str().unwrap();

    let mut args = variation_args(input, local.to_str().unwrap(), "3");
    args.extend(["--provider", "cpu"]);
    assert_ok(&run(&args));
    let url = server.url();
    let mut args = variation_args(input, remote.to_str().unwrap(), "3");
    args.extend(["--server", &url]);
    let o = run(&args);
    assert_ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&format!("on Triton at {url} (CPU)")), "{stdout}");
    let diff = max_difference(&local, &remote);
    println!("server vs local render: max difference {diff:e}");
    assert!(diff <= TOLERANCE, "server render differs from the local one by {diff}");

    // The environment variable does the same; `--server local` overrides it.
    let env_out = dir.path().join("env.wav");
    let o =
        redance(&variation_args(input, env_out.to_str().unwrap(), "3")).env("REDANCE_SERVER", &url).output().unwrap();
    assert_ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("on Triton"));
    let mut args = variation_args(input, env_out.to_str().unwrap(), "3");
    args.extend(["--server", "local", "--provider", "cpu"]);
    let o = redance(&args).env("REDANCE_SERVER", &url).output().unwrap();
    assert_ok(&o);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("on Triton"));
}

#[test]
fn a_server_killed_mid_render_fails_in_words_and_a_rerender_after_restart_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path());
    let port = free_port();
    let mut server = Triton::start(&repo, port, &dir.path().join("triton.log"));
    let input = clip(dir.path());
    let out = dir.path().join("out.wav");
    let (input_s, out_s) = (input.to_str().unwrap(), out.to_str().unwrap());
    let url = server.url();
    // Long enough to be mid-render when the server dies: 2 windows × 40 calls.
    let mut args = vec!["render", "-i", input_s, "-o", out_s, "--strength", "1", "--steps", "40", "--server", &url];
    let render = redance(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    server.kill();
    let o = render.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    println!("killed mid-render: {err}");
    assert_eq!(o.status.code(), Some(1), "the render should fail: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(&format!("render server {url}")), "{err}");
    assert!(err.contains("mid-render") || err.contains("not reachable"), "{err}");
    assert!(!out.exists(), "no partial output");

    // Nothing is left of the killed server (the helper kills its whole process group).
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_mentioning(&repo) > 0 {
        assert!(Instant::now() < deadline, "Triton's processes outlived the kill");
        std::thread::sleep(Duration::from_millis(250));
    }

    // Unreachable now: said so at once, no partial file.
    args[8] = "2";
    let o = run(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    println!("while down: {err}");
    assert!(err.contains(&format!("render server {url}: not reachable")), "{err}");

    let _server = Triton::start(&repo, port, &dir.path().join("triton-2.log"));
    assert_ok(&run(&args));
    assert!(Audio::read_wav(&out).unwrap().frames() > 0);
}

/// Processes whose command line mentions `path` (the server and its backend stubs).
fn processes_mentioning(path: &Path) -> usize {
    let needle = path.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|cmdline| String::from_utf8_lossy(cmdline).contains(&needle))
        .count()
}

#[test]
fn eight_concurrent_renders_share_one_server() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path());
    let server = Triton::start(&repo, free_port(), &dir.path().join("triton.log"));
    let input = clip(dir.path());
    let input = input.to_str().unwrap();
    let local = dir.path().join("local.wav");
    let mut args = variation_args(input, local.to_str().unwrap(), "5");
    args.extend(["--provider", "cpu"]);
    assert_ok(&run(&args));

    let url = server.url();
    let outputs: Vec<PathBuf> = (0..8).map(|i| dir.path().join(format!("remote-{i}.wav"))).collect();
    let started = Instant::now();
    let renders: Vec<Child> = outputs
        .iter()
        .map(|out| {
            let mut args = variation_args(input, out.to_str().unwrap(), "5");
            args.extend(["--server", &url]);
            redance(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for render in renders {
        assert_ok(&render.wait_with_output().unwrap());
    }
    println!("8 concurrent renders through one server: {:.1} s", started.elapsed().as_secs_f64());
    // Requests the dynamic batcher ran together still equal the local render.
    for out in &outputs {
        let diff = max_difference(&local, out);
        assert!(diff <= TOLERANCE, "{}: differs from the local render by {diff}", out.display());
    }
}
