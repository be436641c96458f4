"""The JUnit XML report (``--junit``): one testcase per threshold, for CI dashboards."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from engine.plan.model import RunPlan
from engine.reports.cells import threshold_value, unpack_run
from engine.reports.files import write_atomic
from engine.run.protocol import Finished, Snapshot


def junit_xml(snapshot: Snapshot, passed: bool) -> str:
    """JUnit XML: one testcase per threshold (or one for the run when there are none)."""
    s = snapshot
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
    ):
        ET.SubElement(props, "property", name=key, value=str(value))
    failures = 0
    cases: list[tuple[str, str | None]] = []
    for t in s.thresholds:
        if t.passed is True:
            cases.append((t.expr, None))
        elif t.passed is None:
            cases.append((t.expr, "no data to judge the threshold"))
        else:
            cases.append((t.expr, f"{t.expr}: measured {threshold_value(t)}"))
    if not s.thresholds:
        cases.append(("run passed", None if passed else "the run did not pass"))
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
    snap, ok, _ = unpack_run(snapshot, passed, reason)
    write_atomic(path, junit_xml(snap, ok) + "\n")
