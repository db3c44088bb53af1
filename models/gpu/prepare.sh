#!/usr/bin/env bash
# Packs what training the default model on a GPU machine (the `device` tool) needs and that machine
# lacks, in pieces it can carry (64 MiB per call, working tree included), and prints the calls.
#
#   bash models/gpu/prepare.sh [RUN_DIR]      # RUN_DIR: the training to continue (the shipped model's run)
#
# The kit: MINUTES of the corpus's training items (FLAC, made here by models/corpus.py: the GPU machine has no
# FluidSynth or sound fonts), the resume state RUN_DIR/train_state.pt when there is one, and the pure-Python
# wheels the GPU image lacks (diffusers, importlib_metadata; it has torch). Then, back to back:
#   run(command="bash models/gpu/train.sh stash", carry=["target/train-kit/p0"])  ... every piece but the last
#   run(command="bash models/gpu/train.sh MINUTES", carry=["target/train-kit/pN"], timeout_s=...)
# What comes back ($OUT): train_state.pt, unet/ (EMA weights), metrics.json, train.log. Put them in
# RUN_DIR and export here: models/train.py --skip-train --out RUN_DIR --export models/default.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN=${1:-target/redance-small2-calls}
CORPUS=${CORPUS:-target/corpus}
KIT=target/train-kit
PIECE_MIB=${PIECE_MIB:-44}
MINUTES=${MINUTES:-40}  # of the corpus: each 44 MiB piece is one device call (~8 min of audio)
[ -d "$CORPUS/train" ] || { echo "prepare: no corpus: run models/corpus.py --out $CORPUS first"; exit 1; }

rm -rf "$KIT" && mkdir -p "$KIT/stage/wheels" "$KIT/stage/run"
mkdir -p "$KIT/stage/corpus"
# The items are ~12 s each and independent draws: the first ones are as good a sample as any.
ls "$CORPUS/train" | grep -E '^[0-9]+\.flac$' | head -n $((MINUTES * 5)) | while read -r f; do
  ln -s "$(realpath "$CORPUS/train/$f")" "$KIT/stage/corpus/$f"
done
[ -f "$RUN/train_state.pt" ] && cp "$RUN/train_state.pt" "$KIT/stage/run/"
# The run's network configuration (small, base, ...): the resume state only loads into the same one.
[ -f "$RUN/metrics.json" ] && cp "$RUN/metrics.json" "$KIT/stage/run/"
python3 -m pip download -q --no-deps --only-binary=:all: -d "$KIT/stage/wheels" diffusers==0.42.1 importlib_metadata==8.7.0
# FLAC is already compressed: a plain tar, split.
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
echo "  run(command='bash models/gpu/train.sh 7', carry=['$KIT/p$((n - 1))'], timeout_s=560)"
