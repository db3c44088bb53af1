#!/usr/bin/env bash
# Builds the kit for the GPU benchmark (issue 5: CUDA execution provider vs PyTorch CUDA, fp16 path) and
# splits it into pieces the `device` tool can carry (64 MiB per call, working tree included).
#
#   bash benches/gpu/prepare.sh          # here: prints the device calls to make, in order
#
# The kit: bench_calls (the engine side, built here: no cargo there), ONNX Runtime's GPU build
# (cargo xtask fetch-ort --gpu: libonnxruntime + its CUDA provider), the full-size model's graph without
# weights (benches/gpu/weights.py; filled with random weights there), and the Python wheels the
# PyTorch side needs that the GPU image lacks (diffusers; the image has torch, onnx, onnxruntime).
# Then, on the device, one call per piece, back to back (a machine stays warm only 30 s):
#   run(command="bash benches/gpu/run.sh stash", carry=["target/gpu-kit/p0"])  ... for every piece but the last
#   run(command="bash benches/gpu/run.sh", carry=["target/gpu-kit/pN"], timeout_s=540)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-target/venv-models/bin/python}
KIT=target/gpu-kit
PIECE_MIB=${PIECE_MIB:-42}  # + the working tree (~17 MiB) stays under 64 MiB

cargo build --release -q -p redance-engine --example bench_calls
cargo xtask fetch-ort --gpu
"$PY" -c "import sys; sys.path.insert(0, 'benches'); import engine_vs_pytorch as b; b.ensure_full_export()"

rm -rf "$KIT" && mkdir -p "$KIT/stage/ort" "$KIT/stage/wheels"
cp target/release/examples/bench_calls "$KIT/stage/"
cp -L target/onnxruntime/gpu/libonnxruntime.so.1.* target/onnxruntime/gpu/libonnxruntime_providers_{cuda,shared}.so "$KIT/stage/ort/"
"$PY" benches/gpu/weights.py strip target/bench/full-size-random "$KIT/stage/full"
[ -f target/bench/flops.json ] && cp target/bench/flops.json "$KIT/stage/"
# Pure-Python wheels the image lacks (models/gpu/wheels.txt says which and why).
python3 -m pip download -q --no-deps --only-binary=:all: -d "$KIT/stage/wheels" -r models/gpu/wheels.txt

# xz: the CUDA provider (284 MB of kernels for every GPU generation) packs to 187 MB, gzip to 231 MB.
tar -C "$KIT/stage" -cf - . | xz -T0 -6 | split -b "${PIECE_MIB}M" -d - "$KIT/kit.txz."
n=0
for f in "$KIT"/kit.txz.*; do
    mkdir -p "$KIT/p$n" && mv "$f" "$KIT/p$n/"
    n=$((n + 1))
done
rm -rf "$KIT/stage"
du -sh "$KIT"/p*
echo "device calls, back to back:"
for ((i = 0; i < n - 1; i++)); do
    echo "  run(command='bash benches/gpu/run.sh stash', carry=['$KIT/p$i'])"
done
echo "  run(command='bash benches/gpu/run.sh', carry=['$KIT/p$((n - 1))'], timeout_s=540)"
