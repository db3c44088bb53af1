"""The musician's cycle in a real DAW: Debian's Ardour 7, headless (`ardour7-lua`, `ardour7-export`).

One module-scoped run of tests/hosts/ardour/cycle.lua (session, recorded clips, the plugin on two
tracks, capture armed by automation, strength automated along the region, render, pass 2 recorded,
save), then `ardour7-export` of the saved session; the tests judge the WAVs.

Track A's strength is 0 along the region: its take must be the captured source itself, sample for
sample, so where the take plays is measured exactly (the clip is turned down to half gain after the
capture, so the take of the original stands out from the dry signal). Track B's strength ramps: its
output must differ from dry in the region and be dry elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from hostlib import log, plugin_env, profile, read_wav, workdir

HERE = Path(__file__).resolve().parent
LUA = HERE / "ardour" / "cycle.lua"
SCANNER = Path("/usr/lib/ardour7/ardour-vst3-scanner")
RENDER_TIMEOUT = int(os.environ.get("REDANCE_HOSTS_RENDER_TIMEOUT", "300"))
BAR_TOL = int(os.environ.get("REDANCE_HOSTS_BAR_TOL", "0"))  # samples: Redance corrects Ardour's 1/1920-beat rounding
EDGE = 8192  # samples ignored at the start of a pass (the first cycles of a roll are silent)
TAIL = 256  # and at the clip's end (region fade-out)
EXACT = 1e-6

PROFILE = profile()


def _skip_reason() -> str | None:
    if shutil.which("ardour7-lua") is None or shutil.which("ardour7-export") is None:
        return "Ardour 7 is not installed (ardour7-lua / ardour7-export missing; run tests/hosts/setup.sh as root)"
    if not SCANNER.exists():
        return f"{SCANNER} missing"
    if not (PROFILE.vst3 / "Contents" / "x86_64-linux").is_dir():
        return f"no VST3 bundle at {PROFILE.vst3} (build it: cargo xtask bundle redance --release)"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


def _run(cmd, env, timeout, log_path: Path) -> subprocess.CompletedProcess:
    t0 = time.monotonic()
    with open(log_path, "w") as out:
        p = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, stdin=subprocess.DEVNULL)
    log(f"{' '.join(map(str, cmd[-2:]))} ... rc={p.returncode} in {time.monotonic() - t0:.1f} s (log: {log_path})")
    return p


def _tail(path: Path, n: int = 40) -> str:
    lines = [l for l in path.read_text(errors="replace").splitlines() if "call-slot" not in l and "call slot" not in l]
    return "\n".join(lines[-n:])


@pytest.fixture(scope="module")
def ardour_env() -> dict:
    """A private HOME (Ardour's config and plugin cache, ~/.vst3, Redance's data folder) with the
    bundle installed and scanned into Ardour's VST3 cache."""
    home = workdir("ardour-home")
    env = plugin_env()
    env["HOME"] = str(home)
    for k in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        env.pop(k, None)
    env.setdefault("REDANCE_DATA_DIR", str(home / "redance-data"))
    dest = home / ".vst3" / PROFILE.vst3.name
    shutil.copytree(PROFILE.vst3, dest, symlinks=True)
    # Ardour trusts a cache file only if it is strictly newer, in whole seconds, than the module:
    # backdate the copied bundle so that a scan in the same second still counts.
    past = time.time() - 120
    for p in [dest, *dest.rglob("*")]:
        os.utime(p, (past, past), follow_symlinks=False)
    scan_env = dict(env, LD_LIBRARY_PATH="/usr/lib/ardour7")
    p = subprocess.run([str(SCANNER), "-f", str(dest)], env=scan_env, capture_output=True, text=True, timeout=120)
    caches = list((home / ".cache" / "ardour7" / "vst").glob("*.v3i"))
    assert p.returncode == 0 and caches, f"VST3 scan failed (rc {p.returncode}):\n{p.stdout}\n{p.stderr}"
    assert any(f'name="{PROFILE.name}"' in c.read_text() for c in caches), (
        f"the scan did not find a plugin named {PROFILE.name}:\n{p.stdout}"
    )
    return env


def _manifest(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def _stereo(m: dict, key: str) -> np.ndarray:
    chans = []
    for c in (0, 1):
        x, rate = read_wav(m[f"{key}.file{c}"])
        assert rate == int(m["rate"])
        chans.append(x[0])
    n = min(len(c) for c in chans)
    return np.stack([c[:n] for c in chans])


def _lag(out: np.ndarray, ref: np.ndarray, lo: int, hi: int, max_lag: int = 16384) -> int:
    """The lag L with out[:, i + L] == ref[:, i] over [lo, hi)."""
    for lag in range(0, max_lag):
        if hi + lag > out.shape[1]:
            break
        if np.abs(out[:, lo + lag : hi + lag] - ref[:, lo:hi]).max() < EXACT:
            return lag
    raise AssertionError("the recorded output never matches the dry clip (plugin not transparent outside the region?)")


@pytest.fixture(scope="module")
def cycle(ardour_env) -> dict:
    work = workdir("ardour-cycle")
    session = work / "session"
    manifest_path = work / "cycle.manifest"
    env = dict(ardour_env)
    env.update(
        REDANCE_SESSION_DIR=str(session),
        REDANCE_SESSION_NAME="redance",
        REDANCE_PLUGIN=PROFILE.name,
        REDANCE_PARAMS=";".join(f"{k}={v}" for k, v in PROFILE.params.items()),
        REDANCE_CAPTURE_PARAM=PROFILE.capture,
        REDANCE_STRENGTH_PARAM=PROFILE.strength,
        REDANCE_READY_PATTERN=PROFILE.ready_pattern,
        REDANCE_RENDER_TIMEOUT=str(RENDER_TIMEOUT),
        REDANCE_MANIFEST=str(manifest_path),
    )
    lua_log = work / "cycle.log"
    stdbuf = ["stdbuf", "-oL", "-eL"] if shutil.which("stdbuf") else []  # keep the log on a crash
    p = _run([*stdbuf, "ardour7-lua", str(LUA)], env, RENDER_TIMEOUT + 180, lua_log)
    assert manifest_path.exists(), f"cycle.lua wrote no manifest (rc {p.returncode}):\n{_tail(lua_log)}"
    m = _manifest(manifest_path)
    assert m.get("status") == "ok", f"cycle.lua: {m.get('error')}\n{_tail(lua_log)}"
    log(f"render wait {m['render_wait_s']} s")

    clip_a, clip_b = _stereo(m, "clipA"), _stereo(m, "clipB")
    out_a, out_b = _stereo(m, "outA"), _stereo(m, "outB")
    n = clip_a.shape[1]
    bar = int(m["bar"])
    # the recorded outputs lag the timeline by a fixed amount (one cycle + the dummy backend's
    # latency, 1040 samples here); find it on dry audio in bar 1, before the region
    lag = _lag(out_a, 0.5 * clip_a, EDGE, bar - EDGE)
    lag_b = _lag(out_b, 0.5 * clip_b, EDGE, bar - EDGE)
    log(f"recorded outputs lag the timeline by {lag} (A) and {lag_b} (B) samples")
    out_a = out_a[:, lag : lag + n]
    out_b = out_b[:, lag_b : lag_b + n]
    assert out_a.shape[1] == n and out_b.shape[1] == n, "pass 2 recording shorter than the clip"
    return dict(
        m=m, work=work, session=session, env=ardour_env, lag=lag, n=n, bar=bar,
        clip_a=clip_a, clip_b=clip_b, out_a=out_a, out_b=out_b,
        region=(int(m["region.start"]), int(m["region.end"])),
    )


def _take_span(c: dict) -> tuple[int, int]:
    """Where A's output is the undimmed clip (its strength-0 take), as [start, end)."""
    full = np.all(np.abs(c["out_a"] - c["clip_a"]) < EXACT, axis=0)
    half = np.all(np.abs(c["out_a"] - 0.5 * c["clip_a"]) < EXACT, axis=0)
    idx = np.nonzero(full & ~half)[0]
    assert len(idx), "track A never plays its take on pass 2 (output is dry everywhere)"
    return int(idx.min()), int(idx.max()) + 1


def test_take_is_the_source_at_strength_0_and_plays_in_place(cycle):
    c = cycle
    start, end = _take_span(c)
    r0, r1 = c["region"]
    log(f"A: take heard at [{start}, {end}) ; bar-line region [{r0}, {r1})")
    span = slice(start, end)
    assert np.abs(c["out_a"][:, span] - c["clip_a"][:, span]).max() < EXACT, (
        "A's take (strength 0) is not the captured audio itself, sample for sample"
    )
    assert abs(start - r0) <= BAR_TOL, f"capture began {start - r0} samples from the bar line at {r0}"
    assert abs((end - start) - (r1 - r0)) <= BAR_TOL, f"take lasts {end - start} samples, Length is {r1 - r0}"


def test_dry_outside_the_region(cycle):
    c = cycle
    start, end = _take_span(c)
    n = c["n"]
    for name, out, clip in (("A", c["out_a"], c["clip_a"]), ("B", c["out_b"], c["clip_b"])):
        for lo, hi in ((EDGE, start - BAR_TOL), (end + BAR_TOL, n - TAIL)):
            d = np.abs(out[:, lo:hi] - 0.5 * clip[:, lo:hi]).max(axis=0)
            bad = np.nonzero(d >= EXACT)[0] + lo
            assert not len(bad), (
                f"{name}: output is not dry at {len(bad)} samples in [{lo}, {hi}), first {bad[:3]}, last {bad[-3:]} "
                f"(max diff {d.max():g}; take heard at [{start}, {end}))"
            )


def test_strength_automated_take_differs_from_dry_in_the_region(cycle):
    c = cycle
    start, end = _take_span(c)
    span = slice(start + BAR_TOL, end - BAR_TOL)
    out, clip = c["out_b"][:, span], c["clip_b"][:, span]
    rms = lambda x: float(np.sqrt(np.mean(x * x)))
    diff_dry = rms(out - 0.5 * clip)
    diff_src = rms(out - clip)
    log(f"B: rms(out - dry) = {diff_dry:.4f}, rms(out - source) = {diff_src:.4f}, rms(out) = {rms(out):.4f}")
    assert diff_dry > 1e-3, "B's output in the region is the dry signal: no take heard"
    assert diff_src > 1e-4, "B's take (strength 0.3..0.9) is the unchanged source"
    assert np.all(np.isfinite(out))


@pytest.fixture(scope="module")
def export(cycle) -> np.ndarray:
    c = cycle
    wav = c["work"] / "export.wav"
    exp_log = c["work"] / "export.log"
    p = _run(
        ["ardour7-export", "-b", "float", "-o", str(wav), str(c["session"]), "redance"],
        c["env"], RENDER_TIMEOUT + 120, exp_log,
    )
    # ardour7-export sometimes aborts while exiting, after the file is written: judge the file
    assert wav.exists(), f"ardour7-export wrote nothing (rc {p.returncode}):\n{_tail(exp_log)}"
    x, rate = read_wav(wav)
    assert rate == int(c["m"]["rate"]) and x.shape[0] == 2
    assert x.shape[1] >= c["n"], f"export has {x.shape[1]} frames, the clip {c['n']} (rc {p.returncode}):\n{_tail(exp_log)}"
    return x


def test_offline_export_contains_the_takes_where_the_clip_was(cycle, export):
    c = cycle
    n = c["n"]
    dry = 0.5 * (c["clip_a"] + c["clip_b"])
    lag = _lag(export, dry, EDGE, c["bar"] - EDGE)
    assert lag == 0, f"export is shifted by {lag} samples against the timeline"
    ex = export[:, :n]
    live = c["out_a"] + c["out_b"]
    lo, hi = EDGE, n - TAIL
    d = np.abs(ex[:, lo:hi] - live[:, lo:hi]).max()
    assert d < 1e-5, f"the export differs from what pass 2 played (max {d:g}): the bounce does not hold the takes"
    start, end = _take_span(c)
    assert np.abs(ex[:, start:end] - dry[:, start:end]).max() > 1e-3, "the export is dry where the takes were"


# --- Capture armed while stopped, after a tempo change; saved mid-render; bounced ------------------
#
# tests/hosts/ardour/stopped.lua: 120 BPM, then 100 BPM from bar 2; the playhead mid-bar after the
# change, Capture raised while the transport is stopped, Play: the capture must start on the next
# bar line of the new tempo (to the sample) and last one bar. The clip is then turned down to half
# gain and the session saved at once, mid-render. Two runs:
#  - `exact`: strength 0 (the take is the source: placement judged to the sample, on the bounce of
#    `ardour7-export`; a strength-0 render takes well under a second, so the save may come after it);
#  - `slow`: strength 0.6 and many steps (a render of seconds): the save is surely mid-render; the
#    running session is exported at once (`Session:simple_export()`, the export dialog's path) while
#    the render runs; then closed, and `ardour7-export` loads it afresh and renders the same take again
#    (same seed): both bounces must be equal and hold the take. (Without the wait the reopened
#    project's bounce is dry: checked by switching the pace detection off, see tests/hosts/README.md.)

SLOW_STEPS = int(os.environ.get("REDANCE_HOSTS_SLOW_STEPS", "48"))
FLOAT_PRESET = "6f0c1f0e-7a53-4d39-9d3c-5e2a7c0d5e11"  # ours, written into the private HOME
FLOAT_FORMAT = "20b4ab09-6452-4cb3-bd66-b921cdbd2942"  # Ardour's "BWAV 32float Export"


def _plugin_states(ardour_file: Path) -> list[bytes]:
    import base64
    import re

    xml = ardour_file.read_text()
    return [base64.b64decode(c) for c in re.findall(r"<chunk>([^<]*)</chunk>", xml)]


def _stopped_run(ardour_env: dict, name: str, strength: float, steps: int, live_export: bool,
                 crash: bool = False) -> dict:
    work = workdir(f"ardour-stopped-{name}")
    session = work / "session"
    manifest_path = work / "stopped.manifest"
    env = dict(ardour_env)
    env.update(
        REDANCE_SESSION_DIR=str(session),
        REDANCE_SESSION_NAME="redance",
        REDANCE_PLUGIN=PROFILE.name,
        REDANCE_PARAMS=";".join(f"{k}={v}" for k, v in {**PROFILE.params, "Steps": steps}.items()),
        REDANCE_CAPTURE_PARAM=PROFILE.capture,
        REDANCE_STRENGTH_PARAM=PROFILE.strength,
        REDANCE_STRENGTH=str(strength),
        REDANCE_MANIFEST=str(manifest_path),
    )
    if crash:
        env.update(REDANCE_CRASH="1")
    live = work / "live-export"
    if live_export:
        # 32-bit float WAV (Ardour's own format file), so bounces compare sample for sample
        presets = Path(ardour_env["HOME"]) / ".config" / "ardour7" / "export"
        presets.mkdir(parents=True, exist_ok=True)
        (presets / "redance-float.preset").write_text(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ExportPreset id="{FLOAT_PRESET}" name="Redance float">\n'
            f'  <ExportFormat id="{FLOAT_FORMAT}"/>\n  <ExportFilename>\n'
            '    <Field name="label" enabled="1"/>\n  </ExportFilename>\n</ExportPreset>\n'
        )
        live.mkdir()
        env.update(REDANCE_LIVE_EXPORT_DIR=str(live), REDANCE_EXPORT_PRESET=FLOAT_PRESET)
    lua_log = work / "stopped.log"
    stdbuf = ["stdbuf", "-oL", "-eL"] if shutil.which("stdbuf") else []
    p = _run([*stdbuf, "ardour7-lua", str(HERE / "ardour" / "stopped.lua")], env, RENDER_TIMEOUT + 180, lua_log)
    assert manifest_path.exists(), f"stopped.lua wrote no manifest (rc {p.returncode}):\n{_tail(lua_log)}"
    m = _manifest(manifest_path)
    assert m.get("status") == "ok", f"stopped.lua: {m.get('error')}\n{_tail(lua_log)}"
    chans = [read_wav(m[f"clip.file{c}"])[0][0] for c in (0, 1)]
    n = min(len(c) for c in chans)
    c = dict(m=m, work=work, session=session, env=ardour_env, clip=np.stack([c[:n] for c in chans]), n=n,
             log=lua_log, live=live)
    for line in lua_log.read_text(errors="replace").splitlines():
        if "Redance:" in line:  # the host's pace as the plugin saw it, during the session and its export
            log(f"{name} session: {line.strip()}")
    # the session as saved mid-render, bounced from a fresh load
    wav = work / "export.wav"
    exp_log = work / "export.log"
    p = _run(["ardour7-export", "-b", "float", "-o", str(wav), str(session), "redance"],
             ardour_env, RENDER_TIMEOUT + 120, exp_log)
    c["export_log"] = exp_log.read_text(errors="replace")
    for line in c["export_log"].splitlines():
        if "Redance:" in line:  # what Ardour told the plugin: its activation and the host's pace
            log(f"{name} ardour7-export: {line.strip()}")
    assert wav.exists(), f"ardour7-export wrote nothing (rc {p.returncode}):\n{_tail(exp_log)}"
    x, rate = read_wav(wav)
    assert rate == int(m["rate"]) and x.shape[0] == 2
    c["export"] = x
    return c


@pytest.fixture(scope="module")
def exact(ardour_env) -> dict:
    return _stopped_run(ardour_env, "exact", 0.0, PROFILE.params["Steps"], live_export=False)


@pytest.fixture(scope="module")
def crashed(ardour_env) -> dict:
    return _stopped_run(ardour_env, "crashed", 0.6, PROFILE.params["Steps"], live_export=False, crash=True)


@pytest.fixture(scope="module")
def slow(ardour_env) -> dict:
    return _stopped_run(ardour_env, "slow", 0.6, SLOW_STEPS, live_export=True)


def test_a_project_saved_mid_render_holds_the_capture(slow):
    states = _plugin_states(slow["session"] / "redance.ardour")
    assert states, "no plugin state in the saved session"
    assert b"pending" in states[0] and b"source" in states[0], (
        "the session saved mid-render holds no pending capture: closing it would lose the capture"
    )


def test_capture_armed_while_stopped_starts_on_the_bar_line_after_play_and_the_tempo_change(exact):
    """Judged on `ardour7-export`'s bounce of the saved session (the take restored, or rendered again
    when the save came before the render ended), which holds the take where it was captured."""
    c = exact
    clip, n = c["clip"], c["n"]
    r0, r1 = int(c["m"]["region.start"]), int(c["m"]["region.end"])
    ex = c["export"][:, :n]
    assert ex.shape[1] == n, f"the export has {ex.shape[1]} frames, the clip {n}"
    full = np.all(np.abs(ex - clip) < EXACT, axis=0)
    half = np.all(np.abs(ex - 0.5 * clip) < EXACT, axis=0)
    idx = np.nonzero(full & ~half)[0]
    notes = "\n".join(l for l in c["export_log"].splitlines() if "Redance" in l)
    assert len(idx), f"the bounce of the session saved mid-render is dry: the take was not waited for\n{notes}"
    start, end = int(idx.min()), int(idx.max()) + 1
    log(f"exact: take heard at [{start}, {end}); the bar line after Play and the tempo change: [{r0}, {r1})")
    assert abs(start - r0) <= BAR_TOL, f"capture began {start - r0} samples from the bar line at {r0}"
    assert abs((end - start) - (r1 - r0)) <= BAR_TOL, f"take lasts {end - start} samples, one bar is {r1 - r0}"
    outside = np.ones(n, bool)
    outside[start:end] = False
    outside[:EDGE] = False
    outside[n - TAIL :] = False
    d = np.abs(ex[:, outside] - 0.5 * clip[:, outside]).max()
    assert d < EXACT, f"the bounce is not dry outside the take (max diff {d:g})"


def test_export_right_after_a_capture_holds_the_take(slow):
    """The export dialog's path in the running session, started while the render runs, against
    `ardour7-export`'s bounce of the session saved mid-render, closed and reopened: the capture
    rendered again (same seed and settings) and played in place."""
    c = slow
    clip, n = c["clip"], c["n"]
    r0, r1 = int(c["m"]["region.start"]), int(c["m"]["region.end"])
    wavs = sorted(c["live"].glob("*.wav"))
    text = c["log"].read_text(errors="replace")
    assert wavs, f"the in-session export wrote nothing:\n{_tail(c['log'])}"
    live, rate = read_wav(wavs[0])
    assert rate == int(c["m"]["rate"]) and live.shape[1] >= n
    log(f"slow: in-session export took {c['m'].get('live_export_s')} s")
    # saved just before the export began: the render was still running then
    assert b"pending" in _plugin_states(c["session"] / "redance.ardour")[0], "the render ended before the export"
    live, ref = live[:, :n], c["export"][:, :n]
    dry = 0.5 * clip
    rms = lambda x: float(np.sqrt(np.mean(x * x)))
    notes = "\n".join(l for l in text.splitlines() if "Redance" in l)
    assert rms(live[:, r0:r1] - dry[:, r0:r1]) > 1e-3, f"the in-session export is dry where the take is\n{notes}"
    assert rms(ref[:, r0:r1] - dry[:, r0:r1]) > 1e-3, "the ardour7-export bounce is dry where the take is"
    diff = np.abs(live[:, EDGE : n - TAIL] - ref[:, EDGE : n - TAIL]).max(axis=0)
    d = float(diff.max())
    if d >= 1e-4:
        bad = np.nonzero(diff >= 1e-4)[0] + EDGE
        a, b = int(bad.min()), int(bad.max()) + 1
        was_dry = float(np.abs(live[:, a:b] - dry[:, a:b]).max())
        where = (
            f"frames [{a}, {b}) of the take at [{r0}, {r1}); the in-session export there is "
            f"{'dry' if was_dry < 1e-4 else f'not dry (max {was_dry:g} from dry)'}"
        )
        raise AssertionError(f"the in-session export and the reopened project's bounce differ (max {d:g}): {where}\n{notes}")


def test_a_capture_the_host_never_saved_is_recovered_when_the_project_reopens(crashed):
    """Saved with the plugin on the track and nothing captured; Capture, then Ardour dies without
    saving. `ardour7-export` of that session must find the capture through the plugin's recovery
    journal, render it, and hold the bounce for it."""
    c = crashed
    clip, n = c["clip"], c["n"]
    r0, r1 = int(c["m"]["region.start"]), int(c["m"]["region.end"])
    states = _plugin_states(c["session"] / "redance.ardour")
    assert states and b"journal" in states[0], "the saved plugin state names no recovery journal"
    assert b".wav" not in states[0], "the session was saved after the capture"
    ex = c["export"][:, :n]
    notes = "\n".join(l for l in c["export_log"].splitlines() if "Redance" in l)
    assert "recovered" in notes, f"the reopened plugin did not say it recovered the capture\n{notes}"
    rms = lambda x: float(np.sqrt(np.mean(x * x)))
    assert rms(ex[:, r0:r1] - clip[:, r0:r1]) > 1e-3, f"the bounce is dry where the capture was\n{notes}"
    outside = np.ones(n, bool)
    outside[r0 - BAR_TOL : r1 + BAR_TOL] = False
    outside[:EDGE] = False
    outside[n - TAIL :] = False
    d = np.abs(ex[:, outside] - clip[:, outside]).max()
    assert d < EXACT, f"the bounce is not dry outside the capture (max diff {d:g})"

