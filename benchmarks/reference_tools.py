"""The reference load generators, run and parsed: wrk (HTTP/1.1) and h2load (HTTP/2).

Each returns plain figures (req/s, latency percentiles in ms) read from the tool's own report,
so a benchmark can set them beside deli-tui's, measured against the same server in the same run.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field

from local_nginx import ensure_tools

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(slots=True)
class ReferenceRun:
    """What a reference tool reported: throughput, latency percentiles (ms), errors."""

    tool: str
    rps: float
    requests: int
    latency_ms: dict[str, float] = field(default_factory=dict)
    errors: int = 0
    command: str = ""
    cpu_s: float = 0.0  # user + system CPU of the tool's process
    user_s: float = 0.0  # of which user space

    @property
    def us_per_request(self) -> float:
        """The tool's own CPU microseconds per request."""
        return 1e6 * self.cpu_s / self.requests if self.requests else float("nan")

    @property
    def user_us_per_request(self) -> float:
        return 1e6 * self.user_s / self.requests if self.requests else float("nan")


def pinned_to(cpus: set[int] | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that keeps the child on ``cpus`` (None when not pinning)."""
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def _run_measured(
    cmd: list[str], timeout: float, cpus: set[int] | None = None
) -> tuple[str, float, float]:
    """Run ``cmd``; (stdout, CPU seconds it used, of which user space)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        cmd,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=pinned_to(cpus),
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user = after.ru_utime - before.ru_utime
    return out.stdout, user + (after.ru_stime - before.ru_stime), user


def _to_ms(value: str, unit: str) -> float:
    return float(value) * _UNIT_MS[unit]


def parse_wrk(text: str) -> ReferenceRun:
    """Figures from ``wrk --latency`` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    total = re.search(r"(\d+) requests in", text)
    latency: dict[str, float] = {}
    for pct, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M):
        latency[f"p{pct}"] = _to_ms(value, unit)
    avg = re.search(r"Latency\s+([\d.]+)(us|ms|s|m)", text)
    if avg:
        latency["mean"] = _to_ms(avg.group(1), avg.group(2))
    errors = 0
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non2xx:
        errors += int(non2xx.group(1))
    return ReferenceRun("wrk", rps, int(total.group(1)) if total else 0, latency, errors)


def run_wrk(
    url: str,
    connections: int,
    duration_s: float,
    threads: int = 1,
    latency: bool = True,
    cpus: set[int] | None = None,
) -> ReferenceRun:
    """``wrk -tT -cC -dD [--latency] URL``; the timeout is raised so no request is cut short."""
    wrk = ensure_tools("wrk")["wrk"]
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration_s:g}s", "--timeout", "10s"]
    if latency:
        cmd.append("--latency")
    cmd.append(url)
    text, run_cpu, run_user = _run_measured(cmd, duration_s + 60, cpus)
    run = parse_wrk(text)
    run.cpu_s, run.user_s = run_cpu, run_user
    run.command = " ".join(["wrk", *cmd[1:]])
    return run


def parse_h2load(text: str) -> ReferenceRun:
    """Figures from h2load's report (req/s from the ``finished in`` line)."""
    rps = float(re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", text).group(1))  # type: ignore[union-attr]
    req = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
        r"(\d+) errored, (\d+) timeout",
        text,
    )
    done = int(req.group(3)) if req else 0
    errors = (int(req.group(5)) + int(req.group(6)) + int(req.group(7))) if req else 0
    latency: dict[str, float] = {}
    line = re.search(
        r"time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)", text
    )
    if line:
        latency["min"] = _to_ms(line.group(1), line.group(2))
        latency["max"] = _to_ms(line.group(3), line.group(4))
        latency["mean"] = _to_ms(line.group(5), line.group(6))
    return ReferenceRun("h2load", rps, done, latency, errors)


def run_h2load(
    url: str, clients: int, streams: int, duration_s: float, cpus: set[int] | None = None
) -> ReferenceRun:
    """``h2load -cC -mM -D D URL`` over TLS with ALPN h2 (one thread)."""
    h2load = ensure_tools("h2load")["h2load"]
    cmd = [h2load, f"-c{clients}", f"-m{streams}", "-t1", "-D", f"{duration_s:g}", url]
    text, run_cpu, run_user = _run_measured(cmd, duration_s + 60, cpus)
    run = parse_h2load(text)
    run.cpu_s, run.user_s = run_cpu, run_user
    run.command = " ".join(["h2load", *cmd[1:]])
    return run
