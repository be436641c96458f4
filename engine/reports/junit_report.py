"""The JUnit XML report (``--junit``): one testcase per threshold, for CI dashboards; a run
stopped before its end adds a failed "run completed" case, so it never shows as a pass."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from engine.plan.model import RunPlan
from engine.reports.cells import threshold_label, threshold_value, unpack_run
from engine.reports.files import write_atomic
from engine.run.protocol import Finished, Snapshot, run_verdict


def junit_xml(snapshot: Snapshot, passed: bool, reason: str = "") -> str:
    """JUnit XML: one testcase per threshold (or one for the run when there are none), and
    a failed one when the run was stopped before its end."""
    s = snapshot
    verdict = run_verdict(passed, reason)
    suite_name = f"deli-tui {s.collection} / {s.scenario}".strip()
    suites = ET.Element("testsuites", name="deli-tui")
    suite = ET.SubElement(suites, "testsuite", name=suite_name, time=f"{s.elapsed_s:.3f}")
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("target", s.target),
        ("model", s.model),
        ("requests", s.requests),
        ("rps", f"{s.mean_rps:.3f}"),
        ("error_rate", f"{s.error_rate:.6f}"),
        ("p95_ms", f"{s.latency.p95_ms:.3f}"),
        ("p99_ms", f"{s.latency.p99_ms:.3f}"),
        ("verdict", verdict),
    ):
        ET.SubElement(props, "property", name=key, value=str(value))
    failures = 0
    cases: list[tuple[str, str | None]] = []
    for t in s.thresholds:
        name = threshold_label(t)
        if t.passed is True:
            cases.append((name, None))
        elif t.passed is None:
            cases.append((name, "no data to judge the threshold"))
        else:
            cases.append((name, f"{name}: measured {threshold_value(t)}"))
    if not s.thresholds:
        cases.append(("run passed", None if passed else "the run did not pass"))
    if verdict == "stopped":
        cases.append(("run completed", f"the run was stopped before its end ({reason})"))
    for name, failure in cases:
        case = ET.SubElement(suite, "testcase", classname="deli-tui.thresholds", name=name)
        case.set("time", f"{s.elapsed_s:.3f}")
        if failure is not None:
            failures += 1
            ET.SubElement(case, "failure", message=failure, type="threshold").text = failure
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suites.set("tests", str(len(cases)))
    suites.set("failures", str(failures))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def write_junit(
    path: str | Path, snapshot: Snapshot | RunPlan, passed: bool | Finished, reason: str = ""
) -> None:
    """Write the JUnit XML atomically. Also accepts ``(path, plan, finished)``."""
    snap, ok, why = unpack_run(snapshot, passed, reason)
    write_atomic(path, junit_xml(snap, ok, why) + "\n")
