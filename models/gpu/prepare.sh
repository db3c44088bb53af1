#!/usr/bin/env bash
# Packs what training the default model on a GPU machine (the `device` tool) needs and that machine
# lacks, in pieces it can carry (64 MiB per call, working tree included), and prints the calls.
#
#   bash models/gpu/prepare.sh [NAME=CONFIG:WEIGHTS[:ARGS] ...]   # default: the shipped model, wide=wide:models/default/model.onnx
#   bash models/gpu/prepare.sh small=small:target/redance-small2-calls/unet wide=wide:target/gpu-init/wide/unet
#   bash models/gpu/prepare.sh wide=wide:models/default/model.onnx \
#       wide-un=wide:models/default/model.onnx:"--unroll 0.5"
#
# Each NAME is one training run, all trained at once on the one GPU, each starting from WEIGHTS (an exported
# model.onnx, read back by onnx_weights.py; or a diffusers UNet folder: a run's OUT/unet, models/widen.py's
# output) with a fresh optimiser: the optimiser's state is twice the weights, i.e. another device call.
# ARGS: that run's own train.py options (after the kit's defaults and TRAIN_ARGS), to compare recipes side by side.
# The kit: MINUTES of the corpus's training items (FLAC, made here by models/corpus.py: the GPU machine has
# no FluidSynth or sound fonts), the runs' starting weights, and the wheels the GPU image lacks (it has
# torch): models/gpu/wheels.txt, and soundfile with cffi and pycparser to read FLAC. Then, back to back:
#   run(command="bash models/gpu/train.sh stash", carry=["target/train-kit/p0"])  ... every piece but the last
#   run(command="bash models/gpu/train.sh MINUTES", carry=["target/train-kit/pN"], timeout_s=MINUTES*60+150)
# What comes back ($OUT): back.tar.* (per run: unet/ with the EMA weights, metrics.json, train.log) and
# NAME.log. Unpack with `cat back.tar.* | tar -x -C target/gpu`, then export each run here:
# models/train.py --skip-train --no-eval --out target/gpu/NAME --export target/cand/NAME.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -gt 0 ] || set -- wide=wide:models/default/model.onnx
CORPUS=${CORPUS:-target/corpus}
KIT=target/train-kit
PIECE_MIB=${PIECE_MIB:-44}  # + the working tree (~19 MiB) stays under 64 MiB
MINUTES=${MINUTES:-40}      # of the corpus (~4.7 MiB of FLAC a minute)
[ -d "$CORPUS/train" ] || { echo "prepare: no corpus: run models/corpus.py --out $CORPUS first"; exit 1; }

rm -rf "$KIT" && mkdir -p "$KIT/stage/wheels" "$KIT/stage/runs" "$KIT/stage/corpus"
for spec in "$@"; do
  name=${spec%%=*} rest=${spec#*=}
  config=${rest%%:*} weights=${rest#*:} args=
  case "$weights" in *:*) args=${weights#*:} weights=${weights%%:*} ;; esac
  mkdir -p "$KIT/stage/runs/$name"
  echo "$args" >"$KIT/stage/runs/$name/args"
  if [ "${weights##*.}" = onnx ] && [ -f "$weights" ]; then
    cp "$weights" "$KIT/stage/runs/$name/model.onnx"
  elif [ -f "$weights/config.json" ]; then
    cp -r "$weights" "$KIT/stage/runs/$name/unet"
  else
    echo "prepare: $weights is neither a model.onnx nor a diffusers UNet folder"; exit 1
  fi
  echo "$config" >"$KIT/stage/runs/$name/config"
done
# The items are ~12 s each and independent draws: the first ones are as good a sample as any.
# (A process substitution: `head` closing the pipe early must not fail the script under pipefail.)
mapfile -t items < <(ls "$CORPUS/train" | grep -E '^[0-9]+\.flac$' | head -n $((MINUTES * 5)))
for f in "${items[@]}"; do ln -s "$(realpath "$CORPUS/train/$f")" "$KIT/stage/corpus/$f"; done
# The versions used here, for the image's Python (3.12; WHEEL_PYTHON=3.11 to rehearse here); their other
# needs are in the image.
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "${WHEEL_PYTHON:-3.12}" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d "$KIT/stage/wheels" -r models/gpu/wheels.txt soundfile==0.14.0 cffi==2.1.1 pycparser==3.12
# FLAC and weights hardly compress: a plain tar, split.
tar -C "$KIT/stage" -chf - . | split -b "${PIECE_MIB}M" -d -a 3 - "$KIT/kit.tar."
n=0
for f in "$KIT"/kit.tar.*; do
  mkdir -p "$KIT/p$n" && mv "$f" "$KIT/p$n/"
  n=$((n + 1))
done
rm -rf "$KIT/stage"
du -sh "$KIT"
echo "device calls, back to back (a machine stays warm about 30 s between calls):"
for ((i = 0; i < n - 1; i++)); do
  echo "  run(command='bash models/gpu/train.sh stash', carry=['$KIT/p$i'])"
done
echo "  run(command='bash models/gpu/train.sh 8', carry=['$KIT/p$((n - 1))'], timeout_s=590)  # 8 min took 507 s"
