#!/usr/bin/env bash
# The GPU benchmark, on the device machine (see benches/gpu/prepare.sh for the kit and the calls).
#   bash benches/gpu/run.sh stash   # keeps the pieces carried in this call in /tmp/redance-kit
#   bash benches/gpu/run.sh         # with the last piece: unpacks and runs; results in $OUT
# Prints, and writes to $OUT: the CUDA check, the engine (CUDA EP, fp32 / fp16 / batched windows) against
# PyTorch CUDA fp32 and fp16 on the full-size configuration and the default model, and fp16's quality
# against fp32 on the same seed on CUDA.
set -uo pipefail
cd "$(dirname "$0")/../.."
KIT=/tmp/redance-kit
OUT=${OUT:-/tmp/redance-gpu-out}
mkdir -p "$KIT/pieces" "$OUT"
cp target/gpu-kit/p*/kit.txz.* "$KIT/pieces/" 2>/dev/null
ls "$KIT/pieces"
[ "${1:-}" = stash ] && exit 0

set -e
# Python's lzma rather than xz(1), which an image need not have.
cat "$KIT"/pieces/kit.txz.* | python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)" | tar -xf - -C "$KIT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$KIT"/wheels/*.whl
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
# ONNX Runtime's CUDA provider links cuBLAS, cuDNN, cuFFT, cuRAND and the CUDA runtime: the image has them as
# pip packages (nvidia-*), not on the loader's path.
NV=$(python3 -c "import glob, os, site; print(':'.join(sorted({os.path.dirname(p) for d in site.getsitepackages() for p in glob.glob(d + '/nvidia/**/lib*.so*', recursive=True)})))")
export LD_LIBRARY_PATH="$KIT/ort:$NV:${LD_LIBRARY_PATH:-}"
export ORT_DYLIB_PATH=$(ls "$KIT"/ort/libonnxruntime.so.1.*)
export REDANCE_BENCH_BIN="$KIT/bench_calls" REDANCE_BENCH_FULL_DIR=/tmp/full-size-random
mkdir -p target/bench && cp -n "$KIT/flops.json" target/bench/ 2>/dev/null || true
nvidia-smi -L | tee "$OUT/gpu.txt"

echo quit | "$KIT/bench_calls" default --provider cuda | tee "$OUT/ready.json"
grep -q '"device":"CUDA"' "$OUT/ready.json" || { echo "the CUDA provider did not load (see provider_note)"; exit 1; }

python3 benches/gpu/weights.py fill "$KIT/full" /tmp/full-size-random
python3 models/convert_fp16.py /tmp/full-size-random

bench() { python3 benches/engine_vs_pytorch.py --threads 16 --torch-device cuda "$@"; }
# 1. fp32 both sides (+ the engine's fp16 and 2-window batching), both models.
bench --models full,small --reps 7 --engine cuda='--provider cuda' --engine cuda-fp16='--provider cuda --fp16' \
    --engine cuda-batch2='--provider cuda --batch 2' --json "$OUT/fp32.json" 2>&1 | tee "$OUT/fp32.log"
# 2. fp16 both sides.
bench --models full,small --reps 7 --torch-fp16 --engine cuda-fp16='--provider cuda --fp16' \
    --engine cuda-fp16-batch2='--provider cuda --fp16 --batch 2' --json "$OUT/fp16.json" 2>&1 | tee "$OUT/fp16.log"

# 3. fp16 quality on CUDA: the same variation (seed 0, iPLMS 20, strength 0.5) in fp32 and fp16.
for p in "" --fp16; do
    echo "variation 122880 20 iplms 0.5 /tmp/full$p.wav" | "$KIT/bench_calls" /tmp/full-size-random --provider cuda $p
    echo "variation 122880 20 iplms 0.5 /tmp/small$p.wav" | "$KIT/bench_calls" default --provider cuda $p
done >"$OUT/quality.jsonl"
python3 - <<'PY' | tee "$OUT/quality.txt"
import sys
import numpy as np
sys.path.insert(0, "models")
import synth
for m in ("full", "small"):
    a, _ = synth.read_wav(f"/tmp/{m}.wav")
    b, _ = synth.read_wav(f"/tmp/{m}--fp16.wav")
    a, b = a.astype(np.float64), b.astype(np.float64)
    print(f"{m}: CUDA fp16 vs fp32, same seed: SNR {10 * np.log10((a ** 2).mean() / ((a - b) ** 2).mean()):.1f} dB")
PY
