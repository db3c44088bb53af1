#!/usr/bin/env bash
# Trains default-model candidates on the device machine (see models/gpu/prepare.sh for the kit and the calls).
#   bash models/gpu/train.sh stash     # keeps the pieces carried in this call
#   bash models/gpu/train.sh MINUTES   # with the last piece: unpacks, trains every run in the kit at once
#                                      # for MINUTES (the last DECAY_MINUTES cooling down), packs into $OUT
set -uo pipefail
cd "$(dirname "$0")/../.."
KIT=/tmp/redance-train-kit
OUT=${OUT:-/tmp/redance-train-out}
mkdir -p "$KIT/pieces" "$OUT"
cp target/train-kit/p*/kit.tar.* "$KIT/pieces/" 2>/dev/null
ls "$KIT/pieces" | tr '\n' ' '; echo
[ "${1:-}" = stash ] && exit 0

set -e
MINUTES=${1:-7}
DECAY_MINUTES=${DECAY_MINUTES:-3}
cat "$KIT"/pieces/kit.tar.* | tar -xf - -C "$KIT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$KIT"/wheels/*.whl
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
if command -v nvidia-smi >/dev/null; then nvidia-smi -L | tee "$OUT/gpu.txt"; fi
mkdir -p /tmp/corpus && ln -sfn "$KIT/corpus" /tmp/corpus/train
# One H200 shared by the runs: batch 32 of whole windows each; fp32 weights (the export and the CPU are
# fp32); the learning rate and EMA of the CPU runs, then a linear cool-down to 2e-6 (as the shipped model's).
# Each run stops by its own clock; `timeout` only guards the packing below against a hung one.
pids=()
for run in "$KIT"/runs/*/; do
  name=$(basename "$run")
  init=(--init-unet "$run/unet")
  [ -f "$run/model.onnx" ] && init=(--init-onnx "$run/model.onnx")
  timeout -s INT $((${MINUTES%.*} * 60 + 120)) "${PY:-python3}" models/train.py --device "${DEVICE:-cuda}" \
    --corpus /tmp/corpus --out "/tmp/runs/$name" --config "$(cat "$run/config")" "${init[@]}" \
    --minutes "$MINUTES" --decay-minutes "$DECAY_MINUTES" --lr "${LR:-1e-4}" --lr-end 2e-6 --warmup 50 \
    --ema 0.995 --batch "${BATCH:-32}" --chunk "${CHUNK:-65536}" --threads 4 --save-minutes 2 --no-eval \
    --t-dist "${T_DIST:-calls}" ${TRAIN_ARGS:-} $(cat "$run/args" 2>/dev/null) >"$OUT/$name.log" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
tail -n 4 "$OUT"/*.log
for run in /tmp/runs/*/; do cp "$OUT/$(basename "$run").log" "$run/train.log"; rm -f "$run/train_state.pt"; done
# Back: at most 8 files of 16 MiB each.
tar -C /tmp/runs -cf - . | split -b 15M -d -a 2 - "$OUT/back.tar."
ls -la "$OUT"
exit $status
