"""Comparing two saved runs: each figure's change, better or worse, the notes, and the
``--fail-on`` rules judged on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.history.compare import Change, compare_runs
from engine.history.fail_on import judge_rule, parse_fail_on, unknown_requests
from engine.history.saved_run import read_run
from engine.reports.compare_table import change_text, comparison_table
from tests.engine.history.runs import write_old_run, write_run


def runs(tmp_path: Path, a: dict, b: dict):  # type: ignore[no-untyped-def]
    return compare_runs(
        read_run(write_run(tmp_path / "a.json", **a)), read_run(write_run(tmp_path / "b.json", **b))
    )


def test_a_slower_run_shows_its_latency_changes_as_worse(tmp_path: Path) -> None:
    c = runs(tmp_path, {"latency_ms": (10.0, 20.0)}, {"latency_ms": (12.0, 24.0)})
    p95 = c.change("p95")
    assert p95 is not None and p95.a == pytest.approx(20.0, rel=0.01)
    assert p95.relative == pytest.approx(0.2, abs=0.01)
    assert p95.verdict == "worse"
    assert change_text(p95) == f"{p95.relative * 100:+.1f}%"
    get_user = c.change("p95", "Get user")
    assert get_user is not None and get_user.verdict == "worse"
    assert get_user.relative == pytest.approx(0.2, abs=0.01)
    requests = c.change("requests")
    assert requests is not None and requests.verdict == ""  # a count is neither better nor worse


def test_a_faster_run_is_better_and_a_tiny_change_is_the_same(tmp_path: Path) -> None:
    c = runs(tmp_path, {"latency_ms": (10.0, 20.0)}, {"latency_ms": (8.0, 20.1)})
    assert c.change("p50", "Get user").verdict == "better"  # type: ignore[union-attr]
    assert c.change("p95", "Post order").verdict == "same"  # type: ignore[union-attr]


def test_error_rate_changes_in_percentage_points(tmp_path: Path) -> None:
    c = runs(tmp_path, {"errors": 0}, {"errors": 5})  # 10 of 200 results failed
    rate = c.change("error_rate")
    assert rate is not None and rate.a == 0.0 and rate.b == pytest.approx(0.05)
    assert change_text(rate) == "+5.00pp" and rate.verdict == "worse"
    one = c.change("error_rate", "Get user")
    assert one is not None and one.b == pytest.approx(0.1)


def test_throughput_going_up_is_better() -> None:
    assert Change("rps", 100.0, 120.0, "rps", "higher").verdict == "better"
    assert Change("rps", 100.0, 80.0, "rps", "higher").verdict == "worse"
    assert Change("rps", 0.0, 80.0, "rps", "higher").relative is None
    assert change_text(Change("rps", 0.0, 80.0, "rps", "higher")) == "new"


def test_different_scenarios_and_requests_are_noted(tmp_path: Path) -> None:
    c = runs(
        tmp_path,
        {"scenario": "smoke", "names": ("Get user", "Post order")},
        {"scenario": "soak", "users": 50.0, "names": ("Get user", "Delete order")},
    )
    text = "\n".join(c.notes)
    assert "different scenarios: 'smoke' and 'soak'" in text
    assert "different load: 10 users and 50 users" in text
    assert "only in A: Post order" in text and "only in B: Delete order" in text
    rows = {r.name: (r.in_a, r.in_b) for r in c.requests}
    assert rows == {
        "Get user": (True, True),
        "Post order": (True, False),
        "Delete order": (False, True),
    }


def test_a_run_without_a_digest_still_compares_on_its_figures(tmp_path: Path) -> None:
    old = read_run(write_old_run(tmp_path / "old.json", latency_ms=(10.0, 20.0)))
    new = read_run(write_run(tmp_path / "new.json", latency_ms=(10.0, 30.0)))
    assert old.digest() == [] and new.digest() != []
    c = compare_runs(old, new)
    assert c.change("p99").verdict == "worse"  # type: ignore[union-attr]
    text = comparison_table(c)
    assert "p99" in text and "+50.0%" in text


def test_stopped_runs_are_noted(tmp_path: Path) -> None:
    c = runs(tmp_path, {}, {"reason": "stopped"})
    assert any("run B was stopped before its end" in n for n in c.notes)
    assert c.b.verdict == "STOPPED"


# --- --fail-on ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "metric", "kind", "limit"),
    [
        ("p95 +10%", "p95", "relative", 0.10),
        ("p95 10%", "p95", "relative", 0.10),
        ("p99.9 +20ms", "p99_9", "absolute", 20.0),
        ("max +1.5s", "max", "absolute", 1500.0),
        ("rps -5%", "rps", "relative", 0.05),
        ("rps -100/s", "rps", "absolute", 100.0),
        ("error_rate +0.5pp", "error_rate", "points", 0.005),
    ],
)
def test_fail_on_rules_parse(expr: str, metric: str, kind: str, limit: float) -> None:
    rule = parse_fail_on(expr)
    assert (rule.metric, rule.kind) == (metric, kind)
    assert rule.limit == pytest.approx(limit)


def test_fail_on_rule_with_a_request() -> None:
    rule = parse_fail_on("p95[Get user] +15%")
    assert rule.request == "Get user" and rule.limit == pytest.approx(0.15)


@pytest.mark.parametrize(
    ("expr", "says"),
    [
        ("p95 -10%", "gets worse when it rises"),
        ("rps +5%", "gets worse when it drops"),
        ("error_rate +0.5%", "percentage points"),
        ("p95 +0.5pp", "'pp' (percentage points) is for error_rate"),
        ("p95 +10", "give the change a unit"),
        ("p95 +10parsecs", "is not a unit here"),
        ("latency +10%", "unknown metric"),
        ("p95 < 300ms", "does not parse"),
        ("p95[] +1%", "empty request name"),
    ],
)
def test_bad_fail_on_rules_say_what_is_wrong(expr: str, says: str) -> None:
    with pytest.raises(ValueError, match="--fail-on") as info:
        parse_fail_on(expr)
    assert says in str(info.value)


def test_fail_on_fails_only_beyond_the_allowance(tmp_path: Path) -> None:
    # 20 and 32 ms are the low edges of their buckets: the percentiles are exact (clamped to
    # the exact max), so p95 goes from 20 to 32 ms, +60%
    c = runs(tmp_path, {"latency_ms": (10.0, 20.0)}, {"latency_ms": (10.0, 32.0)})
    assert judge_rule(parse_fail_on("p95 +60%"), c).failed is False  # not beyond: at it
    assert judge_rule(parse_fail_on("p95 +59%"), c).failed is True
    assert judge_rule(parse_fail_on("p95 +12ms"), c).failed is False
    assert judge_rule(parse_fail_on("p95 +11ms"), c).failed is True
    assert judge_rule(parse_fail_on("p95[Get user] +1%"), c).failed is False
    assert judge_rule(parse_fail_on("p95[Post order] +10%"), c).failed is True
    result = judge_rule(parse_fail_on("p95 +10%"), c)
    assert result.detail == "20.0ms -> 32.0ms (+60.0%)"


def test_fail_on_error_rate_and_rps(tmp_path: Path) -> None:
    c = runs(tmp_path, {"errors": 0}, {"errors": 1})  # 2 of 200 results: +1pp
    assert judge_rule(parse_fail_on("error_rate +0.5pp"), c).failed is True
    assert judge_rule(parse_fail_on("error_rate +1.5pp"), c).failed is False
    # the same number of results in the same time: throughput unchanged
    assert judge_rule(parse_fail_on("rps -5%"), c).failed is False
    slow = runs(tmp_path, {"per_window": 50}, {"per_window": 40})  # 20% fewer results
    assert judge_rule(parse_fail_on("rps -5%"), slow).failed is True
    assert judge_rule(parse_fail_on("rps -25%"), slow).failed is False


def test_a_rule_that_cannot_be_judged_fails(tmp_path: Path) -> None:
    c = runs(tmp_path, {"names": ("Get user", "Post order")}, {"names": ("Get user", "Other")})
    result = judge_rule(parse_fail_on("p95[Post order] +10%"), c)
    assert result.failed and "cannot judge" in result.detail and "in B" in result.detail
    assert unknown_requests([parse_fail_on("p95[Nope] +1%")], c) == ["Nope"]


def test_the_table_lists_both_runs_figures_requests_thresholds_and_rules(tmp_path: Path) -> None:
    c = runs(tmp_path, {"latency_ms": (10.0, 20.0)}, {"latency_ms": (10.0, 40.0)})
    rules = [judge_rule(parse_fail_on("p95 +10%"), c)]
    assert c.change("p95").b == 40.0  # type: ignore[union-attr]
    text = comparison_table(c, rules, marks=("PASS", "FAIL", "----"))
    lines = text.splitlines()
    assert lines[0].startswith("  A  a.json  demo / smoke") and lines[1].startswith("  B  b.json")
    p95 = next(line for line in lines if line.split()[:1] == ["p95"])
    assert p95.split()[1:] == ["20.0ms", "40.0ms", "+100.0%", "worse"]
    assert any(line.split()[:1] == ["Post"] for line in lines)
    assert any("A  PASS p95 < 300ms" in line for line in lines)
    assert any("FAIL p95 +10%: 20.0ms -> 40.0ms" in line for line in lines)
    assert lines[-1].strip() == "FAIL 1 regression(s) beyond --fail-on"
