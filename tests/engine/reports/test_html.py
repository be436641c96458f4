"""The HTML report: one self-contained file that parses, says the verdict, and fetches nothing."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from dataclasses import replace
from html import escape
from html.parser import HTMLParser
from pathlib import Path

from engine.reports.html_report import html_report, write_html
from engine.reports.svg_charts import histogram_bins
from engine.run.protocol import ErrorSample, StressProgress, StressStep
from engine.units import format_ms
from tests.engine.reports.test_summary import NAMES, known_run, make_plan
from tests.servers.asgi import RunningServer

SAFETY_S = 90.0
URL_ATTRIBUTES = {"href", "src", "srcset", "action", "data", "poster", "xlink:href"}


class ReportParser(HTMLParser):
    """Collects tags, URL-bearing attributes and the visible text of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in URL_ATTRIBUTES]
        if tag not in ("meta", "br", "hr", "img", "input", "link"):  # void elements
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in URL_ATTRIBUTES]

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(document: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(document)
    parser.close()
    assert parser.open == [], f"unclosed tags: {parser.open}"
    return parser


def assert_self_contained(document: str, target: str) -> None:
    """No scripts, no linked resources, and no URL in the file but the target's own text."""
    parsed = parse(document)
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(parsed.tags)
    assert parsed.links == []
    assert "url(" not in document and "@import" not in document
    rest = document.replace(escape(target, quote=True), "")
    assert not re.search(r"(?i)https?://", rest), re.findall(r"(?i)https?://\S{0,40}", rest)


def test_report_shows_verdict_thresholds_numbers_charts_and_requests() -> None:
    snap = known_run()
    document = html_report(snap, False, "completed")
    parsed = parse(document)
    text = " ".join(parsed.text)
    assert "FAILED" in text and "PASSED" not in text
    assert all(t.expr in text for t in snap.thresholds)
    assert all(name in text for name in NAMES)
    assert "connect" in text and "timeout" in text and "boom" in text  # errors and samples
    assert "200" in text and "201" in text
    assert parsed.tags.count("svg") == 2 and "rect" in parsed.tags and "polyline" in parsed.tags
    assert_self_contained(document, snap.target)
    assert "PASSED" in html_report(snap, True)


def test_histogram_bins_keep_every_count_in_order() -> None:
    snap = known_run()
    bins = histogram_bins(snap.cumulative_hist, bins=20)
    assert len(bins) == 20
    assert sum(c for _, _, c in bins) == sum(c for _, c in snap.cumulative_hist) == 100
    assert all(lo < hi for lo, hi, _ in bins)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bins))
    assert histogram_bins(()) == []


def test_markup_in_names_and_messages_is_shown_as_text(tmp_path: Path) -> None:
    snap = known_run()
    hostile = ErrorSample(0.5, "Get user", "read", 0, '<script>alert("x")</script> & more')
    snap = replace(snap, recent_errors=(hostile,), target="http://127.0.0.1:8089/?q=<b>")
    path = tmp_path / "report.html"
    write_html(str(path), snap, True, "completed")
    document = path.read_text(encoding="utf-8")
    assert "<script>" not in document and "&lt;script&gt;" in document
    assert_self_contained(document, snap.target)
    assert not list(tmp_path.glob(".report.html.*"))  # written atomically: no temp left


def test_empty_run_still_makes_a_report() -> None:
    snap = replace(known_run(), requests=0, cumulative_hist=(), rps_series=(), per_request=())
    document = html_report(snap, False, "stopped")
    assert "no latency data" in document and "no throughput data" in document
    parse(document)


def test_deli_tui_run_writes_the_html_report(demo_server: RunningServer, tmp_path: Path) -> None:
    root = tmp_path / "c"
    root.mkdir()
    (root / "collection.yaml").write_text(
        f"name: Html\nbase_url: {demo_server.url}\nscenarios:\n  smoke:\n    users: 2\n"
        "    iterations: 5\n    duration: 30s\n    thresholds:\n      - p99 < 10s\n"
    )
    (root / "home.yaml").write_text("name: Home page\nurl: /\n")
    (root / "missing.yaml").write_text("name: Missing page\nurl: /status/404\n")
    html_path, json_path = tmp_path / "report.html", tmp_path / "report.json"
    reports = ["--html", str(html_path), "--json", str(json_path)]
    done = subprocess.run(
        [sys.executable, "-m", "deli_tui", "run", str(root), "--quiet", *reports],
        capture_output=True,
        text=True,
        timeout=SAFETY_S,
    )
    assert done.returncode == 0, done.stderr
    document = html_path.read_text(encoding="utf-8")
    text = " ".join(parse(document).text)
    assert "PASSED" in text and "p99 < 10s" in text
    assert "Home page" in text and "Missing page" in text
    assert "404" in text and "http_status" in text
    assert_self_contained(document, json.loads(json_path.read_text())["target"])
    assert not list(tmp_path.glob(".report.html.*"))


def test_html_into_a_missing_directory_exits_2(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope" / "r.html")
    done = subprocess.run(
        [sys.executable, "-m", "deli_tui", "run", "http://127.0.0.1:9/", "--html", missing],
        capture_output=True,
        text=True,
        timeout=SAFETY_S,
    )
    assert done.returncode == 2 and "--html" in done.stderr


def test_plan_and_finished_form_is_accepted(tmp_path: Path) -> None:
    from engine.run.protocol import Finished

    path = tmp_path / "r.html"
    write_html(str(path), make_plan(), Finished(known_run(), True, "completed"))
    assert "PASSED" in path.read_text(encoding="utf-8")


def svg_texts(document: str) -> list[tuple[float, str, str]]:
    """(x, text-anchor, text) of every label drawn in the document's charts."""
    found = []
    for m in re.finditer(r"<text([^>]*)>([^<]*)</text>", document):
        attrs, text = m.group(1), m.group(2)
        x = re.search(r'\bx="([\d.]+)"', attrs)
        anchor = re.search(r'text-anchor="(\w+)"', attrs)
        if x is not None and "rotate" not in attrs:
            found.append((float(x.group(1)), anchor.group(1) if anchor else "start", text))
    return found


def test_no_chart_label_runs_past_the_right_edge_of_its_chart() -> None:
    document = html_report(known_run(), False, "completed")
    labels = svg_texts(document)
    assert labels
    width_per_char = 6.6  # 11px system-ui, generously
    for x, anchor, text in labels:
        width = len(text) * width_per_char
        right = {"start": x + width, "middle": x + width / 2, "end": x}[anchor]
        assert right <= 720, (x, anchor, text)


def test_the_histogram_marks_p50_p95_and_p99_where_they_fall() -> None:
    snap = known_run()
    document = html_report(snap, False, "completed")
    marks = {
        text.split()[0]: x
        for x, _, text in svg_texts(document)
        if text.split()[:1] in (["p50"], ["p95"], ["p99"])
    }
    assert set(marks) == {"p50", "p95", "p99"}
    lines = re.findall(r'<line class="mark" x1="([\d.]+)"[^>]*><title>([^<]*)</title>', document)
    at = {title.split()[0]: float(x) for x, title in lines}
    assert 56 <= at["p50"] < at["p95"] <= at["p99"] <= 710
    assert f"p95 {escape(format_ms(snap.latency.p95_ms))}" in document


def test_a_stress_run_has_its_step_chart_and_table() -> None:
    steps = (
        StressStep(10, 400, 200.0, 20.0, 25.0, 30.0, 0.0, True),
        StressStep(20, 420, 210.0, 40.0, 60.0, 70.0, 0.0, True),
        StressStep(30, 300, 150.0, 90.0, 240.0, 300.0, 0.02, False, broke_on="p95 > 200ms"),
    )
    stress = StressProgress("users", ("p95 > 200ms",), 10.0, 1.0, 50, steps, 30, 20, True)
    document = html_report(replace(known_run(), stress=stress), True, "breaking point found")
    parse(document)
    assert "breaking point: 30 users (p95 &gt; 200ms); highest load that held: 20 users" in document
    chart = document[document.index('aria-label="p95 per step of load (users)"') :]
    chart = chart[: chart.index("</svg>")]
    assert len(re.findall(r'<rect class="bar"', chart)) == 2
    assert len(re.findall(r'<rect class="err"', chart)) == 1
    assert "p95 limit 200ms" in chart
    assert [t for _, _, t in svg_texts(chart) if t in ("10", "20", "30")] == ["10", "20", "30"]
    assert "BROKE (p95 &gt; 200ms)" in document
