"""The run dashboard's widgets: each renders only from the engine's ``Snapshot``."""

from __future__ import annotations

from deli_tui.widgets.error_summary import ErrorSummary
from deli_tui.widgets.latency_histogram import LatencyHistogram
from deli_tui.widgets.percentiles import Percentiles
from deli_tui.widgets.request_table import RequestTable
from deli_tui.widgets.run_header import RunHeader
from deli_tui.widgets.status_codes import StatusCodes
from deli_tui.widgets.stress_chart import StressChart
from deli_tui.widgets.throughput_chart import P99Chart, ThroughputChart
from deli_tui.widgets.worker_table import WorkerTable

__all__ = [
    "ErrorSummary",
    "LatencyHistogram",
    "P99Chart",
    "Percentiles",
    "RequestTable",
    "RunHeader",
    "StatusCodes",
    "StressChart",
    "ThroughputChart",
    "WorkerTable",
]
