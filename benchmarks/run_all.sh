#!/usr/bin/env bash
# Every benchmark in turn, with its default bounded durations; the output also goes to a log.
# Usage: bash benchmarks/run_all.sh [--quick]   (--quick: 5 s measurements, a 60 s soak)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
LOG=${LOG:-/tmp/deli-benchmarks-$(date -u +%Y%m%dT%H%M%SZ).log}
D=10; SOAK=600
if [[ "${1:-}" == "--quick" ]]; then D=5; SOAK=60; fi
run() { echo "== $*" | tee -a "$LOG"; "$PY" "$@" 2>&1 | tee -a "$LOG"; }
run benchmarks/results_memory.py
run benchmarks/http1_vs_wrk.py --duration "$D" --rounds 3
run benchmarks/latency_vs_wrk.py --duration "$D"
run benchmarks/workers_scaling.py --duration "$D"
run benchmarks/h2_vs_h2load.py --duration "$D"
run benchmarks/open_rate.py --duration "$D"
if [[ -f benchmarks/tui_render.py ]]; then run benchmarks/tui_render.py; fi
run benchmarks/soak_rss.py --duration "$SOAK"
echo "log: $LOG"
