#!/usr/bin/env bash
# Ships an exported candidate as the built-in default model, with everything that depends on its weights:
#   bash models/ship_default.sh target/cand/NAME "Redance default redance-small, Nth version: ..."
# 1. models/default gets the candidate's model.onnx and manifest (the description given here);
# 2. its fp16 variant, checked against fp32 (the numbers go in models/README);
# 3. the reference fixtures the engine's tests compare against (DDIM, iPLMS/DPM++/windowed).
# Then: evaluate.py (the table and docs/sound.png), the fp16 row of models/README, scripts/test.sh.
# Export a candidate from a training run (copy it aside while training goes on):
#   target/venv-models/bin/python models/train.py --skip-train --no-eval --corpus target/corpus \
#       --out SNAPSHOT --threads 2 --export target/cand/NAME
set -euo pipefail
cd "$(dirname "$0")/.."
CAND=${1:?usage: ship_default.sh EXPORTED_DIR DESCRIPTION}
DESC=${2:?usage: ship_default.sh EXPORTED_DIR DESCRIPTION}
PY=${PY:-target/venv-models/bin/python}
[ -f "$CAND/model.onnx" ] && [ -f "$CAND/manifest.json" ] || { echo "ship: $CAND has no exported model" >&2; exit 2; }

rm -f models/default/model.fp16.onnx
cp "$CAND/model.onnx" models/default/model.onnx
# the candidate's manifest (its hash), with the description given and no variant yet (step 2 adds it)
"$PY" - "$CAND/manifest.json" models/default/manifest.json "$DESC" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["description"] = sys.argv[3]
m.pop("variants", None)
with open(sys.argv[2], "w") as f:
    json.dump(m, f, indent=2)
    f.write("\n")
EOF
"$PY" models/convert_fp16.py models/default --check
"$PY" models/reference_sample.py
"$PY" tests/fixtures/sampler_reference/make.py
git status --short models/default tests/fixtures
