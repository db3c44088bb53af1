//! `redance model import|list|remove` without torch: every refusal the import makes before (or
//! instead of) converting is one line in plain words, and leaves nothing in the model folder or
//! the work folder. A loopback server that never answers stands in for an unreachable index; the
//! end-to-end import with torch is `tests/import_e2e.rs`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A data folder of its own for every test.
struct Data {
    dir: tempfile::TempDir,
}

impl Data {
    fn new() -> Data {
        Data { dir: tempfile::tempdir().unwrap() }
    }
    fn models(&self) -> PathBuf {
        self.dir.path().join("models")
    }
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_redance"));
        cmd.args(args).env("REDANCE_DATA_DIR", self.dir.path()).env_remove("REDANCE_PYTHON");
        cmd
    }
    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("runs")
    }
    /// Exit 1, one line containing `needle`, no model installed, no work folder left.
    fn refused(&self, args: &[&str], needle: &str) -> String {
        self.refused_by(self.command(args), needle)
    }
    fn refused_by(&self, mut cmd: Command, needle: &str) -> String {
        let o = cmd.output().expect("runs");
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(needle), "'{err}' should mention '{needle}'");
        self.assert_nothing_left(&["kept", "maestro-150k"]);
        err
    }
    fn assert_nothing_left(&self, allowed: &[&str]) {
        let installed: Vec<String> = std::fs::read_dir(self.models())
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        assert!(installed.iter().all(|n| allowed.contains(&n.as_str())), "installed: {installed:?}");
        let work = self.dir.path().join("import-work");
        let left = std::fs::read_dir(&work).map(|d| d.count()).unwrap_or(0);
        assert_eq!(left, 0, "work folders left in {}", work.display());
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A pickle (the legacy torch format is a bare pickle stream) of `{key: 1, ...}`, protocol 2.
fn pickle_of_keys(keys: &[&str]) -> Vec<u8> {
    let mut p = vec![0x80, 2, b'}', b'('];
    for k in keys {
        p.push(b'X');
        p.extend((k.len() as u32).to_le_bytes());
        p.extend(k.as_bytes());
        p.extend([b'K', 1]);
    }
    p.extend([b'u', b'.']);
    p
}

const DD_KEYS: &[&str] = &["diffusion_ema.timestep_embed.weight", "diffusion_ema.net.0.main.0.weight"];

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

fn install_default_copy(models: &Path, folder: &str) {
    let dir = models.join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/default");
    for f in ["manifest.json", "model.onnx", "model.fp16.onnx"] {
        std::fs::copy(root.join(f), dir.join(f)).unwrap();
    }
}

#[test]
fn list_remove_and_render_by_name() {
    let data = Data::new();
    let o = data.run(&["model", "list"]);
    assert!(o.status.success() && stdout(&o).contains("no models installed"), "{}", stdout(&o));
    install_default_copy(&data.models(), "small-copy");
    std::fs::create_dir_all(data.models().join("not-a-model")).unwrap();
    let o = data.run(&["model", "list"]);
    let listing = stdout(&o);
    assert!(o.status.success(), "{listing}");
    assert_eq!(listing.lines().count(), 2, "header + one model: {listing}");
    let row = listing.lines().nth(1).unwrap();
    // the built-in model's manifest name, whichever version ships
    let name = redance_engine::ModelSource::Embedded.manifest().unwrap().0.name;
    for cell in [name.as_str(), "48000 Hz", "65536 (1.37 s)", "MiB", "fp32, fp16", "small-copy"] {
        assert!(row.contains(cell), "'{row}' lacks '{cell}'");
    }

    // --model takes an installed model's name (folder or manifest name).
    let clip = data.dir.path().join("clip.wav");
    let ch: Vec<f32> = (0..4800).map(|i| (i as f32 * 0.05).sin() * 0.4).collect();
    redance_engine::Audio::new(48_000, vec![ch.clone(), ch]).unwrap().write_wav(&clip).unwrap();
    let out = data.dir.path().join("out.wav");
    let (c, w) = (clip.to_str().unwrap(), out.to_str().unwrap());
    let o = data.run(&["render", "-i", c, "-o", w, "--steps", "2", "--model", "small-copy", "--provider", "cpu"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains(&format!("model {name}")), "{}", stdout(&o));

    let o = data.run(&["model", "remove", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("installed: {name}")));
    let o = data.run(&["model", "remove", &name]);
    assert!(o.status.success() && stdout(&o).contains(&format!("removed {name}")));
    assert!(!data.models().join("small-copy").exists());
}

#[test]
fn import_refuses_what_it_cannot_use_in_one_line_and_installs_nothing() {
    let data = Data::new();
    let src = tempfile::tempdir().unwrap();
    let s = src.path();
    data.refused(&["model", "import", "/nonexistent/glitch-440k.ckpt"], "does not exist");
    let text = write(s, "notes.ckpt", b"these are my notes, not a checkpoint");
    data.refused(&["model", "import", &text], "not a PyTorch checkpoint");
    let other = write(s, "other.ckpt", &pickle_of_keys(&["model.encoder.weight", "model.decoder.weight"]));
    data.refused(&["model", "import", &other], "not a Dance Diffusion checkpoint");
    let folder = s.join("some-folder");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("config.json"), r#"{"_class_name": "UNet2DConditionModel"}"#).unwrap();
    data.refused(&["model", "import", folder.to_str().unwrap()], "not a Dance Diffusion model");

    // A pickle that would run a command when loaded: refused, and the command never runs.
    let marker = s.join("pwned");
    let mut evil = b"\x80\x02cposix\nsystem\nX".to_vec();
    let command = format!("touch {}", marker.display());
    evil.extend((command.len() as u32).to_le_bytes());
    evil.extend(command.as_bytes());
    evil.extend(b"\x85R.");
    let evil = write(s, "glitch-440k.ckpt", &evil);
    data.refused(&["model", "import", &evil], "refused: loading it would run code");
    assert!(!marker.exists());

    let unknown = write(s, "my-finetune.ckpt", &pickle_of_keys(DD_KEYS));
    data.refused(&["model", "import", &unknown], "--rate HZ and --window");
    data.refused(&["model", "import", &unknown, "--name", "../escape"], "cannot be a model name");

    // The name is taken: --force is the way (checked before any Python work).
    std::fs::create_dir_all(data.models().join("kept")).unwrap();
    let err = data
        .refused(&["model", "import", &unknown, "--name", "kept", "--rate", "48000", "--window", "65536"], "--force");
    assert!(err.contains("already installed"), "{err}");
    let known = write(s, "maestro-150k.ckpt", &pickle_of_keys(DD_KEYS));
    std::fs::rename(data.models().join("kept"), data.models().join("maestro-150k")).unwrap();
    data.refused(&["model", "import", &known], "'maestro-150k' is already installed");
    std::fs::rename(data.models().join("maestro-150k"), data.models().join("kept")).unwrap();

    // No Python, or a Python without venv.
    let mut cmd = data.command(&["model", "import", &known]);
    cmd.env("REDANCE_PYTHON", "/nonexistent/python3");
    data.refused_by(cmd, "Python 3 was not found");
    if cfg!(unix) {
        let fake = s.join("python-without-venv");
        std::fs::write(&fake, "#!/bin/sh\ncase \"$*\" in *'import venv'*) exit 1;; esac\nexec python3 \"$@\"\n")
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut cmd = data.command(&["model", "import", &known]);
        cmd.env("REDANCE_PYTHON", &fake).env("REDANCE_IMPORT_ENV", s.join("env"));
        data.refused_by(cmd, "no venv/pip support");
    }
}

/// pip pointed at a loopback port: fails at once (nothing listens) or hangs (a server that accepts
/// and never answers), never reaching the internet.
fn offline(cmd: &mut Command, index: &str, env: &Path) {
    cmd.env("REDANCE_IMPORT_ENV", env)
        .env("REDANCE_TORCH_INDEX_URL", "")
        .env("PIP_INDEX_URL", index)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_RETRIES", "0")
        .env("PIP_TIMEOUT", "30")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("PIP_EXTRA_INDEX_URL");
}

#[test]
fn no_index_and_incomplete_wheels_are_explained_and_ctrl_c_leaves_nothing() {
    let data = Data::new();
    let src = tempfile::tempdir().unwrap();
    let known = write(src.path(), "glitch-440k.ckpt", &pickle_of_keys(DD_KEYS));
    // The environment (venv only: pip never succeeds here) is kept between runs to save its creation.
    let env = Path::new(env!("CARGO_TARGET_TMPDIR")).join("import-env-offline");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_index = format!("http://{}/simple/", closed.local_addr().unwrap());
    drop(closed);
    let mut cmd = data.command(&["model", "import", &known]);
    offline(&mut cmd, &dead_index, &env);
    let err = data.refused_by(cmd, "could not reach the package index");
    assert!(err.contains("--wheels DIR"), "{err}");

    let wheels = tempfile::tempdir().unwrap();
    let mut cmd = data.command(&["model", "import", &known, "--wheels", wheels.path().to_str().unwrap()]);
    offline(&mut cmd, &dead_index, &env);
    data.refused_by(cmd, "do not have everything the conversion needs");

    // Ctrl-C while pip waits on the index: exit 130, "cancelled", nothing installed or left over.
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging_index = format!("http://{}/simple/", server.local_addr().unwrap());
    let _held = std::thread::spawn(move || {
        let conns: Vec<_> = server.incoming().take(8).collect();
        std::thread::sleep(std::time::Duration::from_secs(60));
        drop(conns);
    });
    let mut cmd = data.command(&["model", "import", &known]);
    offline(&mut cmd, &hanging_index, &env);
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.map_while(Result::ok) {
        seen.push(line.clone());
        if line.contains("installing PyTorch") {
            std::thread::sleep(std::time::Duration::from_secs(2));
            // The shell's own kill: Debian's minimal images have no /bin/kill.
            let kill = format!("kill -INT {}", child.id());
            assert!(Command::new("sh").args(["-c", &kill]).status().unwrap().success());
        }
    }
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(seen.iter().any(|l| l.contains("[2/7] preparing the Python environment")), "{seen:?}");
    assert_eq!(o.status.code(), Some(130), "{err} {seen:?}");
    assert!(err.contains("import cancelled; nothing was installed"), "{err}");
    data.assert_nothing_left(&[]);
}
