#!/usr/bin/env python3
"""Renders per minute with 1, 2, 4 and 8 renders at once: on this computer, and on a Triton server on
the same machine with and without dynamic batching, in one run (a benchmark, not a test).

Each render is its own `redance render` process, as separate musicians' plugins are separate
clients of the server (plugin instances inside one host share one engine, which runs their jobs one
after another). Every render is the same 2-window variation (8 model calls a window) of a
synthesised clip. Prints one row per setting with renders/min and the ratio to local at the same
concurrency.

Needs: `cargo build --release -p redance-cli`, and Triton from `bash tests/triton/setup.sh`.
Usage: python3 benches/triton_renders.py [--concurrency 1,2,4,8] [--steps 16] [--threads N]
"""

import argparse
import json
import math
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REDANCE = os.path.join(ROOT, "target", "release", "redance")
with open(os.path.join(ROOT, "models", "default", "manifest.json")) as _f:
    MODEL = json.load(_f)["name"]  # the built-in model's, which the server serves


def write_clip(path, frames=100_000, rate=48_000):
    """A stereo 32-bit float WAV (two render windows of the built-in model)."""
    data = bytearray()
    for i in range(frames):
        data += struct.pack("<ff", 0.4 * math.sin(i * 0.031), 0.3 * math.sin(i * 0.017))
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 3, 2, rate,
                         rate * 8, 8, 32, b"data", len(data))
    with open(path, "wb") as f:
        f.write(header + data)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/models/{MODEL}/ready", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


class Server:
    """tests/triton/server.sh in its own process group, stopped with the group."""

    def __init__(self, repo, log):
        self.port = free_port()
        self.proc = subprocess.Popen([os.path.join(ROOT, "tests", "triton", "server.sh"), repo, str(self.port)],
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 120
        while not ready(self.port):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                sys.exit(f"Triton did not start (log: {log.name})")
            time.sleep(0.2)

    def stop(self):
        try:
            os.killpg(self.proc.pid, 15)
            self.proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.proc.pid, 9)
        except ProcessLookupError:
            pass
        self.proc.wait()


def render_batch(n, clip, out_dir, extra, steps):
    """Starts n renders at once; returns the wall time until the last one finished."""
    args = [REDANCE, "render", "-i", clip, "--strength", "0.5", "--steps", str(steps), "--seed", "1"] + extra
    env = dict(os.environ)
    env.pop("REDANCE_SERVER", None)
    started = time.perf_counter()
    procs = [subprocess.Popen(args + ["-o", os.path.join(out_dir, f"r{i}.wav")], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for i in range(n)]
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            sys.exit(f"a render failed: {err.decode().strip()}")
    return time.perf_counter() - started


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concurrency", default="1,2,4,8")
    ap.add_argument("--steps", type=int, default=16, help="diffusion steps (a variation at 0.5 uses half)")
    ap.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads per local render")
    args = ap.parse_args()
    levels = [int(x) for x in args.concurrency.split(",")]
    if not os.path.exists(REDANCE):
        sys.exit("build the CLI first: cargo build --release -p redance-cli")
    tmp = tempfile.mkdtemp(prefix="redance-triton-bench-")
    try:
        clip = os.path.join(tmp, "clip.wav")
        write_clip(clip)
        repos = {}
        for name, flags in (("batched", []), ("unbatched", ["--no-dynamic-batching"])):
            repos[name] = os.path.join(tmp, name)
            subprocess.run([REDANCE, "model", "serve-config", "default", "--out", repos[name], "--backend", "python",
                            "--cpu"] + flags, check=True, stdout=subprocess.DEVNULL)
        local_extra = ["--provider", "cpu"] + (["--threads", str(args.threads)] if args.threads else [])
        results = {}
        # Warm-up: the first render pays for loading files into the page cache.
        render_batch(1, clip, tmp, local_extra, args.steps)
        for n in levels:
            results[("local", n)] = render_batch(n, clip, tmp, local_extra, args.steps)
        for name, repo in repos.items():
            with open(os.path.join(tmp, f"{name}.log"), "w") as log:
                server = Server(repo, log)
                try:
                    extra = ["--server", f"http://127.0.0.1:{server.port}"]
                    render_batch(1, clip, tmp, extra, args.steps)
                    for n in levels:
                        results[(f"server, {name}", n)] = render_batch(n, clip, tmp, extra, args.steps)
                finally:
                    server.stop()
        print(f"renders/min, 2-window variation at 0.5 with {args.steps} steps, {os.cpu_count()} CPUs "
              "(server and clients on this machine)")
        print(f"{'where':<22}" + "".join(f"{f'{n} at once':>22}" for n in levels))
        for where in ["local", "server, batched", "server, unbatched"]:
            cells = []
            for n in levels:
                rate = n / results[(where, n)] * 60
                ratio = results[("local", n)] / results[(where, n)]
                cells.append(f"{rate:8.1f} ({ratio:4.2f}x local)")
            print(f"{where:<22}" + "".join(f"{c:>22}" for c in cells))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
