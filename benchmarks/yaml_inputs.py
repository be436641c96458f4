"""Hard YAML inputs: how long ``deli-tui run`` takes to say what is wrong with them.

Two collections are written for the measurement: one request file of 5.9 MB (a body of
~90,000 keys) with a syntax error on its last line, and one holding an alias bomb (anchors
nested 9 deep, 9 aliases each: 387 million values once expanded). Each is run through the
real CLI (``python -m deli_tui run DIR``), which must exit 2 naming the file and line; the
wall time of each (median of ``--rounds``) is printed. ``--repo PATH`` measures another
checkout (e.g. an older commit, for a before/after); ``--limit`` kills a run that hangs.

    python benchmarks/yaml_inputs.py [--rounds 3] [--repo PATH] [--limit 60]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine_runs import REPO_ROOT, child_env
from figure_table import print_table

BIG_BYTES = 5_900_000


def write_inputs(directory: Path) -> dict[str, Path]:
    big = directory / "big"
    big.mkdir()
    (big / "collection.yaml").write_text("name: big\nbase_url: http://127.0.0.1:9\n")
    lines = ["name: big", "method: POST", "url: /", "body:"]
    size = 0
    while size < BIG_BYTES:
        line = f'  key_{len(lines):07d}: "value {len(lines)} with some text to make it longer"'
        lines.append(line)
        size += len(line) + 1
    lines.append("  broken: [unclosed")
    (big / "big.yaml").write_text("\n".join(lines) + "\n")
    bomb = directory / "bomb"
    bomb.mkdir()
    (bomb / "collection.yaml").write_text("name: bomb\nbase_url: http://127.0.0.1:9\n")
    body = ["name: bomb", "method: POST", "url: /", "body:"]
    for k, name in enumerate("abcdefghi"):
        item = '"lol"' if k == 0 else f"*{'abcdefghi'[k - 1]}"
        body.append(f"  {name}: &{name} [{', '.join([item] * 9)}]")
    (bomb / "bomb.yaml").write_text("\n".join(body) + "\n")
    return {"5.9 MB file, error on its last line": big, "alias bomb (9 deep x 9)": bomb}


def time_run(repo: Path, target: Path, limit: float) -> tuple[float, str]:
    """(seconds, first line of stderr) of one run; the limit when it had to be killed."""
    env = child_env()
    env["PYTHONPATH"] = str(repo)
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "deli_tui", "run", str(target)],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=limit,
        )
    except subprocess.TimeoutExpired:
        return limit, f"killed after {limit:g} s"
    first = (done.stderr.splitlines() or [""])[0]
    return time.monotonic() - started, f"exit {done.returncode}: {first[:110]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="checkout to measure")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds before a kill")
    args = parser.parse_args()
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory(prefix="deli-bench-yaml-") as tmp:
        for name, target in write_inputs(Path(tmp)).items():
            times, said = [], ""
            for _ in range(args.rounds):
                seconds, said = time_run(args.repo.resolve(), target, args.limit)
                times.append(seconds)
                if seconds >= args.limit:
                    break
            rows.append([name, statistics.median(times), said])
    print_table(
        f"deli-tui run on hard YAML ({args.repo.resolve()}), median of {args.rounds}",
        ["input", "seconds", "what it said"],
        rows,
    )


if __name__ == "__main__":
    main()
