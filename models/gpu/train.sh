#!/usr/bin/env bash
# Trains the default model on the device machine (see models/gpu/prepare.sh for the kit and the calls).
#   bash models/gpu/train.sh stash     # keeps the pieces carried in this call
#   bash models/gpu/train.sh MINUTES   # with the last piece: unpacks, trains MINUTES, results in $OUT
# Continues RUN's state when the kit carries one (same config, steps, EMA, optimiser), else starts anew.
set -uo pipefail
cd "$(dirname "$0")/../.."
KIT=/tmp/redance-train-kit
OUT=${OUT:-/tmp/redance-train-out}
mkdir -p "$KIT/pieces" "$OUT"
cp target/train-kit/p*/kit.tar.* "$KIT/pieces/" 2>/dev/null
ls "$KIT/pieces" | tail -1
[ "${1:-}" = stash ] && exit 0

set -e
MINUTES=${1:-7}
cat "$KIT"/pieces/kit.tar.* | tar -xf - -C "$KIT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$KIT"/wheels/*.whl
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
if command -v nvidia-smi >/dev/null; then nvidia-smi -L | tee "$OUT/gpu.txt"; fi
mkdir -p /tmp/corpus && ln -sfn "$KIT/corpus" /tmp/corpus/train
cp "$KIT"/run/train_state.pt "$OUT/" 2>/dev/null || true
# The configuration of the run being continued (its metrics.json), else train.py's default.
CONFIG=$("${PY:-python3}" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("config", "base"))' \
  "$KIT"/run/metrics.json 2>/dev/null || echo base)
# One H200: batch 32 of 2-window crops; fp32 weights (the export and the CPU are fp32); the learning rate
# of the CPU run it continues.
"${PY:-python3}" models/train.py --device "${DEVICE:-cuda}" --corpus /tmp/corpus --out "$OUT" --minutes "$MINUTES" --config "$CONFIG" --lr "${LR:-1e-4}" \
  --batch "${BATCH:-32}" --chunk "${CHUNK:-65536}" --threads 16 --save-minutes 2 --no-eval --t-dist "${T_DIST:-calls}" ${TRAIN_ARGS:-} \
  2>&1 | tee "$OUT/train.log"
