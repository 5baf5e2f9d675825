#!/usr/bin/env bash
# Train the demo model with the GPU recipe on the project's lent GPU machine, then benchmark it; every
# result lands in $OUT in pieces the device tool brings back (at most 8 files of at most 16 MiB each).
#
#   bash scripts/device_train_demo.sh [TRAIN_SECONDS]        (default 380)
#
# Run it from the repo root with `carry: [".whl"]` (diffusers as wheels: docs/demo-model.md) and
# `timeout_s: 600`. What comes back:
#   demo-shapes.safetensors.part-aa, -ab, ...   the exported checkpoint, split (join with `cat`)
#   benchmark.json                              the benchmark's report (200 prompts x 2 seeds, 128x128)
#   logs.tar.gz                                 train.log, benchmark.log, summary.json, the stages' log.jsonl
# The checkpoint and the logs are written before the benchmark starts, so a benchmark cut off by the
# time limit still leaves the trained file. Environment: INIT_FROM=FILE continues from an exported
# demo file's weights (train_demo --init-from); TRAIN_ARGS / BENCH_ARGS add options to either command;
# WORK_DIR (default cache/demo-shapes) is the training work dir; OUT defaults to /tmp/demo-out;
# BUDGET_S (default 585) is the whole script's time: the benchmark is stopped in time to pack its log.
set -uo pipefail
SECONDS=0
OUT=${OUT:-/tmp/demo-out}
WORK_DIR=${WORK_DIR:-cache/demo-shapes}
TRAIN_S=${1:-380}
CKPT=cache/demo-shapes-gpu.safetensors
mkdir -p "$OUT" cache

if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || { echo "could not install the carried wheels"; exit 1; }
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1
python3 - <<'EOF' || exit 1
import diffusers, torch, transformers
print(f"diffusers {diffusers.__version__}, transformers {transformers.__version__}, torch {torch.__version__}, "
      f"cuda: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
EOF

init=()
[ -n "${INIT_FROM:-}" ] && init=(--init-from "$INIT_FROM")
# shellcheck disable=SC2086  # TRAIN_ARGS / BENCH_ARGS are word lists on purpose
python3 -m modules.training.train_demo --out "$CKPT" --work-dir "$WORK_DIR" --time-limit "$TRAIN_S" \
    "${init[@]}" ${TRAIN_ARGS:-} 2>&1 | tee "$OUT/train.log"
train_rc=${PIPESTATUS[0]}
echo "train_demo exit status: $train_rc (0: done, 3: stopped early, run again to continue)"

pack_logs() {
    local logs=()
    for f in "$OUT/train.log" "$OUT/benchmark.log" "$WORK_DIR/summary.json" "$WORK_DIR"/*/log.jsonl; do
        [ -f "$f" ] && logs+=("$f")
    done
    tar -czf "$OUT/logs.tar.gz.tmp" --transform 's|.*/\([^/]*\)/log.jsonl$|\1-log.jsonl|;s|.*/||' "${logs[@]}" \
        && mv "$OUT/logs.tar.gz.tmp" "$OUT/logs.tar.gz"
}

if [ ! -f "$CKPT" ]; then
    pack_logs
    rm -f "$OUT/train.log"
    echo "no checkpoint was exported"; exit 1
fi
split -b 15M "$CKPT" "$OUT/demo-shapes.safetensors.part-"
sha256sum "$CKPT"
pack_logs

left=$(( ${BUDGET_S:-585} - SECONDS - 20 ))
if [ "$left" -lt 30 ]; then
    echo "no time left for the benchmark (${left}s); the checkpoint and logs are in $OUT"
    exit "$train_rc"
fi
echo "benchmark: up to ${left}s (${SECONDS}s of the budget used)"
# shellcheck disable=SC2086
timeout -k 10 "$left" python3 -m modules.demo.benchmark --ckpt "$CKPT" --json "$OUT/benchmark.json" ${BENCH_ARGS:-} 2>&1 \
    | tee "$OUT/benchmark.log"
bench_rc=${PIPESTATUS[0]}
[ "$bench_rc" -eq 124 ] && echo "the benchmark ran out of time (${left}s): benchmark.log has how far it got"
pack_logs
rm -f "$OUT/train.log" "$OUT/benchmark.log"  # they travel in logs.tar.gz
ls -la "$OUT"
[ "$bench_rc" -eq 0 ] || exit "$bench_rc"
exit "$train_rc"
