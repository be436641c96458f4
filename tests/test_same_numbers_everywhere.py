"""The same run prints the same numbers in the same units in the CLI summary, the HTML report
and the dashboard: all three format through ``engine.units``."""

from __future__ import annotations

import html
import re

from engine.reports.html_report import html_report
from engine.reports.summary import summary_table
from engine.run.protocol import Finished
from engine.units import format_bytes, format_ms, format_rate
from tests.tui.sample_snapshots import make_snapshot
from tests.tui.test_snapshots import dashboard_svg


def svg_text(svg: str) -> str:
    """The characters drawn in a Textual SVG screenshot, one line per row."""
    rows: dict[str, list[str]] = {}
    for y, text in re.findall(r'<text[^>]*\by="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(y, []).append(html.unescape(re.sub(r"<[^>]+>", "", text)))
    return "\n".join(
        "".join(parts).replace("\xa0", " ")
        for _, parts in sorted(rows.items(), key=lambda item: float(item[0]))
    )


async def test_summary_html_and_dashboard_show_the_same_latencies_sizes_and_rates() -> None:
    final = make_snapshot(seq=60, phase="finished")
    summary = summary_table(final, False, "completed")
    report = html.unescape(re.sub(r"<[^>]+>", " ", html_report(final, False, "completed")))
    dashboard = svg_text(
        await dashboard_svg(
            [make_snapshot(), Finished(final, passed=False, reason="completed")], (160, 48)
        )
    )
    latencies = [format_ms(v) for v in (final.latency.p50_ms, final.latency.p95_ms,
                                        final.latency.p99_ms, final.latency.max_ms)]  # fmt: skip
    for text in latencies:
        assert text in summary, (text, summary)
        assert text in report, text
        assert text in dashboard, (text, dashboard)
    assert format_bytes(final.bytes_in) in summary
    assert format_bytes(final.bytes_in) in report
    assert format_bytes(final.bytes_in) in dashboard
    assert format_rate(final.mean_rps) in summary
    assert format_rate(final.mean_rps) in report
    # one unit system: binary sizes everywhere, never the decimal kB/MB of the old reports
    for text in (summary, report, dashboard):
        assert not re.search(r"\d (kB|MB|GB)\b", text)
