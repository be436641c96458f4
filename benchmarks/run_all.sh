#!/usr/bin/env bash
# Every benchmark in turn, with its default bounded durations; the output also goes to a log.
# Usage: bash benchmarks/run_all.sh [--quick] [--no-soak]
#   --quick: 5 s measurements and a 60 s soak; --no-soak: leave the 10-minute soak out
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
LOG=${LOG:-/tmp/deli-benchmarks-$(date -u +%Y%m%dT%H%M%SZ).log}
D=10; SOAK=600
for arg in "$@"; do
    case "$arg" in
        --quick) D=5; SOAK=60 ;;
        --no-soak) SOAK=0 ;;
        *) echo "unknown option: $arg" >&2; exit 2 ;;
    esac
done
run() { echo "== $*" | tee -a "$LOG"; "$PY" "$@" 2>&1 | tee -a "$LOG"; }
run benchmarks/results_memory.py
run benchmarks/http1_vs_wrk.py --duration "$D" --rounds 3
run benchmarks/flow_vs_static.py --duration "$D" --rounds 3
run benchmarks/latency_vs_wrk.py --duration "$D"
run benchmarks/workers_scaling.py --duration "$D"
run benchmarks/h2_vs_h2load.py --duration "$D"
run benchmarks/open_rate.py --duration "$D"
if [[ -f benchmarks/tui_render.py ]]; then run benchmarks/tui_render.py; fi
if "$PY" -c "import ray" 2>/dev/null; then  # the cluster extra
    run benchmarks/cluster_vs_local.py --duration "$D" --rounds 3
fi
if [[ "$SOAK" != 0 ]]; then run benchmarks/soak_rss.py --duration "$SOAK"; fi
echo "log: $LOG"
