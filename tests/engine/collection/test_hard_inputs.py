"""Inputs built to hurt: an alias bomb, a recursive alias, a huge file broken at its end, an
empty or broken collection.yaml. Each ends in bounded work and one clear problem with its
file and line (a hang would fail the subprocess's timeout, never a speed assertion)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from engine.collection.loader import load_collection_partial
from engine.collection.nodes import MAX_ALIAS_VALUES
from tests.engine.collection_files import write_collection

SAFETY_S = 60.0
REQUESTS = {name: f"name: {name}\nurl: /{name}\n" for name in ("a.yaml", "b.yaml", "c.yaml")}


def alias_bomb(depth: int = 9, width: int = 9) -> str:
    """A request whose body nests ``depth`` anchors, each a list of ``width`` aliases of the
    one before: ``width ** depth`` values once expanded."""
    lines = ["name: bomb", "method: POST", "url: /", "body:"]
    names = "abcdefghijklmnop"[:depth]
    for k, name in enumerate(names):
        item = '"lol"' if k == 0 else f"*{names[k - 1]}"
        lines.append(f"  {name}: &{name} [{', '.join([item] * width)}]")
    return "\n".join(lines) + "\n"


def run_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deli_tui", "run", str(path)],
        capture_output=True,
        text=True,
        timeout=SAFETY_S,
    )


def test_an_alias_bomb_is_refused_where_it_crosses_the_bound(tmp_path: Path) -> None:
    root = write_collection(tmp_path, {"bomb.yaml": alias_bomb()})
    done = run_cli(root)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    # line 10 is the anchor "f": 9 aliases of "e" (66,430 values each) cross 100,000 there
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"error: {root / 'bomb.yaml'}:10: aliases make this value")
    assert f"at most {MAX_ALIAS_VALUES:,} may come from aliases" in line


def test_anchors_within_the_bound_still_load(tmp_path: Path) -> None:
    root = write_collection(tmp_path, {"shared.yaml": alias_bomb(depth=4, width=9)})
    collection, problems = load_collection_partial(root)
    assert problems == []
    (request,) = collection.requests
    assert isinstance(request.body, dict) and len(request.body["d"]) == 9


def test_a_recursive_alias_is_a_problem_not_a_hang(tmp_path: Path) -> None:
    text = "name: loop\nmethod: POST\nurl: /\nbody: &me\n  again: *me\n"
    root = write_collection(tmp_path, {"loop.yaml": text})
    _, problems = load_collection_partial(root)
    (problem,) = problems
    assert problem.path == root / "loop.yaml" and problem.line == 4
    assert "recursive" in problem.message


def test_a_huge_file_broken_at_its_end_is_reported_at_its_last_line(tmp_path: Path) -> None:
    lines = ["name: big", "method: POST", "url: /", "body:"]
    lines += [f'  key_{i:07d}: "value {i} with a little text"' for i in range(150_000)]
    lines.append("  broken: [unclosed")
    root = write_collection(tmp_path, {"big.yaml": "\n".join(lines) + "\n"})
    assert (root / "big.yaml").stat().st_size > 5_000_000
    done = run_cli(root)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {root / 'big.yaml'}:{len(lines) + 1}: YAML syntax")


def test_an_empty_collection_yaml_is_named_with_no_error_for_each_request(tmp_path: Path) -> None:
    root = write_collection(tmp_path, {"collection.yaml": "", **REQUESTS})
    done = run_cli(root)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {root / 'collection.yaml'}:1: collection.yaml is empty (hint: write at least: "
        "name: My API and base_url: http://127.0.0.1:8089)"
    ]


def test_a_broken_collection_yaml_is_the_one_problem_shown(tmp_path: Path) -> None:
    text = "name: x\nbase_url: [http://127.0.0.1:9\n"
    root = write_collection(tmp_path, {"collection.yaml": text, **REQUESTS})
    _, problems = load_collection_partial(root)
    assert [(p.path, p.line) for p in problems] == [(root / "collection.yaml", 3)]
    assert "YAML syntax error" in problems[0].message
