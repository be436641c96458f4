"""Reports: the --json document, JUnit XML and the summary table, from known windows."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from engine.metrics.aggregate import Aggregator
from engine.metrics.recorder import WindowRecorder
from engine.plan.model import LoadProfile, PreparedRequest, RunPlan, Stage
from engine.reports.json_report import summary_dict, write_json
from engine.reports.junit_report import junit_xml, write_junit
from engine.reports.summary import summary_table
from engine.results import ERR_CONNECT, ERR_TIMEOUT
from engine.run.protocol import Finished, Snapshot
from tests.engine.metrics.feed import feed

NAMES = ("Get user", "Post order")
THRESHOLDS = ("p95 < 300ms", "error_rate < 1%", "p99[Get user] < 5ms")


def make_plan(model: str = "closed") -> RunPlan:
    requests = tuple(
        PreparedRequest(
            name=name,
            method="GET",
            url="http://127.0.0.1:8089/x",
            scheme="http",
            host="127.0.0.1",
            port=8089,
            target="/x",
            headers=(),
        )
        for name in NAMES
    )
    return RunPlan(
        collection_name="demo",
        scenario_name="smoke",
        base_url="http://127.0.0.1:8089",
        requests=requests,
        profile=LoadProfile(model=model, stages=(Stage(2.0, 5.0),)),  # type: ignore[arg-type]
        thresholds=THRESHOLDS,
    )


def known_run(model: str = "closed") -> Snapshot:
    """Two windows: 90 x 2 ms + 6 x 8 ms (Get user), 2 x 4 ms + 2 errors (Post order)."""
    agg = Aggregator(make_plan(model))
    rec = WindowRecorder(0, NAMES, 0.5, 1_000)
    lag = 1_000_000 if model == "open" else -1
    for seq in range(2):
        for _ in range(45):
            feed(
                rec,
                0,
                latency_ns=2_000_000,
                lag_ns=lag,
                bytes_in=1_000,
                bytes_out=100,
                ttfb_ns=1_500_000,
                at_s=0.1,
            )
        for _ in range(3):
            feed(
                rec,
                0,
                status=201,
                latency_ns=8_000_000,
                lag_ns=lag,
                bytes_in=1_000,
                bytes_out=100,
                ttfb_ns=7_000_000,
                at_s=0.2,
            )
        feed(
            rec,
            1,
            latency_ns=4_000_000,
            lag_ns=lag,
            bytes_in=500,
            bytes_out=400,
            connect_ns=1_000_000,
            ttfb_ns=3_000_000,
            at_s=0.3,
        )
        err = ERR_CONNECT if seq == 0 else ERR_TIMEOUT
        feed(
            rec, 1, status=0, error=err, latency_ns=10_000_000, lag_ns=lag, message="boom", at_s=0.4
        )
        rec.skipped = 3
        rec.connections_opened += 1  # the connection the 4 ms request opened
        agg.add(rec.flush(seq, seq * 0.5, seq * 0.5 + 0.5))
    return agg.final_snapshot(1.0, "completed")


def test_json_summary_has_the_documented_keys_and_values(tmp_path: Path) -> None:
    snap = known_run()
    path = tmp_path / "out" / "summary.json"
    path.parent.mkdir()
    write_json(path, snap, False, "completed")
    data = json.loads(path.read_text())
    assert data["requests"] == 100 and data["rps"] == 100.0 and data["duration_s"] == 1.0
    lat = data["latency_ms"]
    assert set(lat) == {"min", "mean", "p50", "p75", "p90", "p95", "p99", "p99_9", "max"}
    assert lat["min"] == 2.0 and lat["max"] == 10.0
    assert lat["mean"] == pytest.approx((90 * 2 + 6 * 8 + 2 * 4 + 2 * 10) / 100)
    assert abs(lat["p50"] - 2.0) < 0.02 and abs(lat["p95"] - 8.0) < 0.08
    assert data["status_codes"] == {"200": 92, "201": 6}
    assert data["errors"] == {"connect": 1, "timeout": 1}
    assert data["skipped"] == 6
    assert data["per_request"]["Get user"]["requests"] == 96
    assert data["per_request"]["Get user"]["rps"] == 96.0
    assert data["per_request"]["Post order"] == {
        "requests": 4,
        "rps": 4.0,
        "errors": 2,
        "latency_ms": data["per_request"]["Post order"]["latency_ms"],
        "status_codes": {"200": 2},
    }
    assert data["per_request"]["Post order"]["latency_ms"]["max"] == 10.0
    assert [t["expr"] for t in data["thresholds"]] == list(THRESHOLDS)
    assert [t["passed"] for t in data["thresholds"]] == [True, False, False]
    assert data["thresholds"][1]["value"] == pytest.approx(0.02)
    assert data["passed"] is False and data["reason"] == "completed"
    assert (data["scenario"], data["collection"], data["model"]) == ("smoke", "demo", "closed")
    assert data["target"] == "http://127.0.0.1:8089"
    assert data["bytes_in"] == 2 * (48 * 1_000 + 500)
    assert data["bytes_out"] == 2 * (48 * 100 + 400)
    assert data["scheduler_lag_ms"] is None
    assert data["service_latency_ms"] == lat
    assert data["phases"]["new_connections"] == 2
    assert list(path.parent.iterdir()) == [path]  # no temp file left


def test_open_model_json_carries_service_time_and_scheduler_lag() -> None:
    data = summary_dict(known_run("open"), True)
    assert data["model"] == "open"
    assert abs(data["scheduler_lag_ms"]["p50"] - 1.0) < 0.01
    assert data["scheduler_lag_ms"]["max"] >= 1.0


def test_plan_and_finished_form_writes_the_same_json_plus_the_load(tmp_path: Path) -> None:
    snap = known_run()
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_json(a, snap, False, "completed")
    write_json(b, make_plan(), Finished(snap, False, "completed"))
    from_snapshot, from_plan = json.loads(a.read_text()), json.loads(b.read_text())
    assert from_plan.pop("load") == {
        "over": "users",
        "peak": 5.0,
        "workers": 1,
        "stages": [[2.0, 5.0]],
    }
    for data in (from_snapshot, from_plan):
        assert data.pop("finished_at").endswith("Z")  # the time of writing
    assert from_snapshot == from_plan


def test_json_keeps_the_series_and_the_error_samples() -> None:
    data = summary_dict(known_run(), False)
    assert data["series"]["window_s"] == 0.5
    assert data["series"]["rps"] == [100.0, 100.0]
    assert data["series"]["errors"] == [1, 1]
    assert [e["class"] for e in data["error_samples"]] == ["connect", "timeout"]
    assert data["error_samples"][0]["message"] == "boom"


def test_junit_has_one_testcase_per_threshold_and_parses(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_junit(path, known_run(), False)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == list(THRESHOLDS)
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == ["error_rate < 1%", "p99[Get user] < 5ms"]
    assert suite.get("tests") == "3" and suite.get("failures") == "2"
    failure = cases[1].find("failure")
    assert failure is not None and "2.00%" in (failure.get("message") or "")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["requests"] == "100"


def test_junit_without_thresholds_has_one_case_for_the_run() -> None:
    snap = known_run()
    root = ET.fromstring(junit_xml(replace(snap, thresholds=()), True))
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 1 and cases[0].find("failure") is None


def test_summary_table_shows_thresholds_with_marks_and_aligned_columns() -> None:
    text = summary_table(known_run(), False, "completed", marks=("PASS", "FAIL", "----"))
    lines = text.splitlines()
    assert any("PASS p95 < 300ms" in line for line in lines)
    assert any("FAIL error_rate < 1%" in line and "2.00%" in line for line in lines)
    assert lines[-1].strip() == "FAIL FAILED"
    dotted = [line for line in lines if " .." in line]
    assert {"requests", "errors", "latency", "status codes"} <= {
        line.strip().split(" .")[0] for line in dotted
    }
    assert len({line.index(". ") for line in dotted}) == 1  # values start in one column
    assert any("(connect 1, timeout 1)" in line for line in lines)
    header = next(line for line in lines if line.split()[:2] == ["request", "reqs"])
    rows = [line for line in lines if line.strip().startswith(NAMES)]
    assert len(rows) == 2
    assert {len(r) for r in rows} == {len(header)}  # right-aligned columns end together
    same = summary_table(make_plan(), Finished(known_run(), False, "completed"))
    assert "demo / smoke" in same and "completed" in same


def test_open_model_summary_shows_the_connections_even_when_none_was_paid_by_a_request() -> None:
    """The open model opens its connections before the start: no request carries a connect
    time, and the summary still says how many connections there were, as the dashboard does."""
    snap = known_run("open")
    snap = replace(snap, phases=replace(snap.phases, connect_mean_ms=0.0, connect_p99_ms=0.0))
    text = summary_table(snap, True, marks=("ok", "x", "-"))
    (line,) = [line for line in text.splitlines() if "connections" in line]
    assert line.split()[-2:] == ["2", "new"]


def test_a_stopped_run_says_stopped_in_every_report_never_passed() -> None:
    from engine.reports.html_report import html_report
    from engine.run.protocol import ThresholdResult

    snap = replace(known_run(), thresholds=(ThresholdResult("p95 < 300ms", 8.0, True),))
    text = summary_table(snap, True, "stopped", marks=("ok", "x", "-"))
    assert text.splitlines()[-1].strip() == "- STOPPED"
    data = summary_dict(snap, True, "stopped")
    assert (data["passed"], data["verdict"]) == (False, "stopped")
    suite = ET.fromstring(junit_xml(snap, True, "stopped"))
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["run completed"]
    page = html_report(snap, True, "stopped")
    assert ">STOPPED<" in page and ">PASSED<" not in page
    # a failed threshold still says failed, stopped or not
    assert summary_dict(snap, False, "stopped")["verdict"] == "failed"
    assert Finished(snap, True, "stopped").verdict == "stopped"
    assert Finished(snap, True, "completed").verdict == "passed"


def test_the_default_threshold_is_marked_default_in_every_report() -> None:
    from engine.reports.html_report import html_report
    from engine.run.protocol import ThresholdResult

    default = ThresholdResult("error_rate < 1%", 0.02, False, default=True)
    snap = replace(known_run(), thresholds=(default,))
    assert "error_rate < 1% (default)" in summary_table(snap, False, marks=("ok", "x", "-"))
    assert summary_dict(snap, False)["thresholds"][0]["default"] is True
    names = [c.get("name") for c in ET.fromstring(junit_xml(snap, False)).iter("testcase")]
    assert names == ["error_rate < 1% (default)"]
    assert "error_rate &lt; 1% (default)" in html_report(snap, False)
