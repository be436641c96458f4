"""Run deli-tui through its real entry point, the headless CLI, and watch its processes.

``run_headless`` starts ``python -m deli_tui run URL ... --json FILE --quiet`` (checks, per-request
stats and timeouts on, as a user runs it), samples the CPU time and RSS of the CLI, supervisor and
worker processes while it runs, optionally profiles the workers with py-spy, and returns the JSON
report with those samples. The repository root goes on PYTHONPATH, so an uninstalled checkout works.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent


def stop_on_sigterm() -> None:
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt, so ``with`` blocks stop what they started."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)


def child_env(ca_file: Path | None = None) -> dict[str, str]:
    """The environment for engine processes: this checkout importable, an extra CA if given."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    if ca_file is not None:
        env["DELI_CA_BUNDLE"] = str(ca_file)
    return env


@dataclass(slots=True)
class ProcessSample:
    """One sample of the engine's processes: seconds since start, role -> (cpu_s, rss_bytes),
    and role -> seconds spent runnable but waiting for a CPU (Linux schedstat)."""

    t: float
    by_role: dict[str, tuple[float, int]]
    waited: dict[str, float] = field(default_factory=dict)
    user: dict[str, float] = field(default_factory=dict)  # role -> user-space CPU seconds
    fds: dict[str, int] = field(default_factory=dict)  # role -> open file descriptors

    @property
    def rss(self) -> int:
        return sum(rss for _, rss in self.by_role.values())


@dataclass(slots=True)
class EngineRun:
    """The headless JSON report plus what was sampled from outside."""

    report: dict
    wall_s: float
    command: str
    samples: list[ProcessSample] = field(default_factory=list)
    cpu_s: dict[str, float] = field(default_factory=dict)
    profiles: dict[int, Path] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return float(self.report.get("rps", 0.0))

    @property
    def requests(self) -> int:
        return int(self.report.get("requests", 0))

    def latency(self, key: str) -> float:
        return float(self.report.get("latency_ms", {}).get(key, float("nan")))

    def cores(self, prefix: str = "", user_only: bool = False) -> float:
        """Mean CPU (in cores) of the processes whose role starts with ``prefix`` while the
        load ran: each one's first and last sampling intervals are left out (start-up imports
        and waiting for the start; the end of the run and the final report), which had
        lowered the figure by up to ~5% of a 10 s run."""
        total = 0.0
        for series in self._series(prefix, "user" if user_only else "cpu").values():
            (t0, cpu0), (t1, cpu1) = series[0], series[-1]
            if t1 > t0:
                total += (cpu1 - cpu0) / (t1 - t0)
        return total

    def starved(self, prefix: str = "worker") -> float:
        """Share of the run the matching processes spent runnable but waiting for a CPU
        (another process had it): a high figure means the machine, not the engine, set the
        pace."""
        shares = [
            (w1 - w0) / (t1 - t0)
            for (t0, w0), *_, (t1, w1) in self._series(prefix, "waited").values()
            if t1 > t0
        ]
        return max(shares) if shares else float("nan")

    def _series(self, prefix: str, what: str) -> dict[str, list[tuple[float, float]]]:
        """(time, value) samples of ``what`` ("cpu", "user", "waited") per matching role,
        without each role's first and last sample when it has four or more."""
        series: dict[str, list[tuple[float, float]]] = {}
        for sample in self.samples:
            if what == "cpu":
                values = {r: c for r, (c, _) in sample.by_role.items()}
            else:
                values = sample.user if what == "user" else sample.waited
            for role, value in values.items():
                if role.startswith(prefix):
                    series.setdefault(role, []).append((sample.t, value))
        return {
            role: points[1:-1] if len(points) >= 4 else points
            for role, points in series.items()
            if len(points) >= 2
        }

    def us_per_request(self, prefix: str = "worker", user_only: bool = False) -> float:
        """CPU microseconds per request spent in the processes matching ``prefix``
        (``user_only``: user-space time only, leaving out the kernel's share)."""
        return 1e6 * self.cores(prefix, user_only) / self.rps if self.rps else float("nan")

    @property
    def errors(self) -> int:
        return sum(int(v) for v in self.report.get("errors", {}).values())


_COLLECTION = """\
name: bench
base_url: {base_url}
timeout: 10s
"""
_REQUEST = """\
name: ok
method: GET
url: {path}
checks:
  status: 200
  body_contains: ok
"""


def write_checked_collection(url: str, directory: Path) -> Path:
    """A one-request collection for ``url`` whose request checks status 200 and the body
    (``ok``), with a 10 s timeout: the engine keeps and checks every body, as users run it."""
    parts = urlsplit(url)
    root = directory / "collection"
    root.mkdir()
    (root / "collection.yaml").write_text(
        _COLLECTION.format(base_url=f"{parts.scheme}://{parts.netloc}")
    )
    (root / "ok.yaml").write_text(_REQUEST.format(path=parts.path or "/"))
    return root


def _role(proc: psutil.Process, cli_pid: int) -> str | None:
    """ "cli", "supervisor", "worker-PID", or None for helpers (resource tracker)."""
    try:
        if proc.pid == cli_pid:
            return "cli"
        cmdline = " ".join(proc.cmdline())
        if "resource_tracker" in cmdline or "forkserver" in cmdline:
            return None
        parent = proc.ppid()
    except psutil.Error:
        return None
    return "supervisor" if parent == cli_pid else f"worker-{proc.pid}"


def _engine_processes(cli: psutil.Process) -> dict[str, psutil.Process]:
    procs = {}
    try:
        family = [cli, *cli.children(recursive=True)]
    except psutil.Error:
        return procs
    for proc in family:
        role = _role(proc, cli.pid)
        if role is not None:
            procs[role] = proc
    return procs


def run_queue_wait_s(pid: int) -> float:
    """Seconds the process's main thread spent runnable but not running (0 when unknown)."""
    try:
        fields = Path(f"/proc/{pid}/schedstat").read_text().split()
        return int(fields[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _sample(procs: dict[str, psutil.Process], t0: float) -> ProcessSample:
    by_role = {}
    waited = {}
    user = {}
    fds = {}
    for role, proc in procs.items():
        try:
            with proc.oneshot():
                cpu = proc.cpu_times()
                by_role[role] = (cpu.user + cpu.system, proc.memory_info().rss)
                fds[role] = proc.num_fds()
        except psutil.Error:
            continue
        waited[role] = run_queue_wait_s(proc.pid)
        user[role] = cpu.user
    return ProcessSample(time.monotonic() - t0, by_role, waited, user, fds)


def _start_profilers(
    procs: dict[str, psutil.Process], seconds: float, out_dir: Path, native: bool
) -> list[tuple[subprocess.Popen[bytes], int, Path]]:
    """py-spy record (raw collapsed stacks) on each worker for ``seconds``; ``native`` adds
    C frames (uvloop, OpenSSL, syscalls), which shows what a Python line's self time is."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        sys.exit("profiling needs py-spy: pip install py-spy")
    started = []
    for role, proc in procs.items():
        if not role.startswith("worker"):
            continue
        out = out_dir / f"{role}.txt"
        cmd = [py_spy, "record", "--pid", str(proc.pid), "--duration", f"{max(1, int(seconds))}",
               "--format", "raw", "--rate", "200", "-o", str(out)]  # fmt: skip
        cmd.append("--native" if native else "--nonblocking")
        popen = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append((popen, proc.pid, out))
    return started


def run_headless(
    target: str,
    *,
    users: int | None = None,
    rate: float | None = None,
    duration_s: float = 10.0,
    workers: int = 1,
    http2: bool = False,
    ca_file: Path | None = None,
    sample_every_s: float = 0.5,
    profile: bool | str = False,
    on_sample: object = None,
    extra_args: tuple[str, ...] = (),
    keep_csv: Path | None = None,
    checks: bool = True,
    cpus: set[int] | None = None,
) -> EngineRun:
    """One headless run; ``target`` is a URL or a collection path. ``profile``: True or
    "native" to py-spy the workers (see ``EngineRun.profiles``). ``keep_csv``: also export
    the retained raw results (``--csv``) to that path. ``checks``: a URL target is run as a
    one-request collection with status and body checks (``write_checked_collection``).
    ``cpus``: keep the CLI and the processes it starts on these CPUs."""
    tmp = Path(tempfile.mkdtemp(prefix="deli-bench-run-"))
    report_path = tmp / "report.json"
    url = target
    if checks and target.startswith(("http://", "https://")):
        target = str(write_checked_collection(target, tmp))
    cmd = [sys.executable, "-m", "deli_tui", "run", target, "--duration", f"{duration_s:g}s",
           "--workers", str(workers), "--json", str(report_path), "--quiet"]  # fmt: skip
    if users is not None:
        cmd += ["--users", str(users)]
    if rate is not None:
        cmd += ["--rate", f"{rate:g}"]
    if http2:
        cmd.append("--http2")
    cmd += list(extra_args)
    if keep_csv is not None:
        cmd += ["--csv", str(tmp / "results.csv")]
    shown = " ".join(["deli-tui", *cmd[3:]]).replace(str(report_path), "FILE")
    shown = shown.replace(str(tmp / "results.csv"), "CSV")
    if target != url:
        shown = shown.replace(target, f"COLLECTION(GET {url}, checks status=200 body~ok)")
    t0 = time.monotonic()
    cli = subprocess.Popen(
        cmd,
        cwd=REPO_ROOT,
        env=child_env(ca_file),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=None if cpus is None else (lambda: os.sched_setaffinity(0, cpus)),
    )
    output: list[bytes] = []
    reader = threading.Thread(target=lambda: output.extend(cli.stdout or []), daemon=True)
    reader.start()
    run = EngineRun({}, 0.0, shown)
    cli_ps = psutil.Process(cli.pid)
    profilers: list[tuple[subprocess.Popen[bytes], int, Path]] = []
    procs: dict[str, psutil.Process] = {}
    try:
        next_sample = t0
        while cli.poll() is None:
            found = _engine_processes(cli_ps)
            procs.update(found)
            now = time.monotonic()
            if profile and not profilers and sum(r.startswith("worker") for r in procs) >= workers:
                # skip the first second (start-up), stop a second before the end
                time.sleep(1.0)
                profilers = _start_profilers(procs, duration_s - 2.0, tmp, profile == "native")
            if now >= next_sample:
                sample = _sample(procs, t0)
                if sample.by_role:
                    run.samples.append(sample)
                    if callable(on_sample):
                        on_sample(sample)
                next_sample += sample_every_s
            time.sleep(0.05)
        cli.wait()
    except BaseException:
        cli.send_signal(signal.SIGINT)
        try:
            cli.wait(15)
        except subprocess.TimeoutExpired:
            cli.kill()
        raise
    finally:
        for popen, pid, out in profilers:
            try:
                popen.wait(max(5.0, duration_s))
            except subprocess.TimeoutExpired:
                popen.kill()
            if out.exists():
                run.profiles[pid] = out
    run.wall_s = time.monotonic() - t0
    reader.join(5)
    if run.samples:
        last = {}
        for sample in run.samples:
            for role, (cpu, _) in sample.by_role.items():
                last[role] = cpu
        run.cpu_s = last
    if not report_path.exists():
        text = b"".join(output).decode(errors="replace")[-3000:]
        raise RuntimeError(f"the engine wrote no report (exit {cli.returncode}):\n{text}")
    run.report = json.loads(report_path.read_text())
    report_path.unlink()
    if keep_csv is not None and (tmp / "results.csv").exists():
        shutil.move(str(tmp / "results.csv"), keep_csv)
    if not run.profiles:
        shutil.rmtree(tmp, ignore_errors=True)
    return run


PIN_HELP = "nginx on CPU 1, the load generator (reference or engine) on CPU 0"


def add_common_arguments(parser: argparse.ArgumentParser, *, profiling: bool = False) -> None:
    """Flags every engine-vs-reference script takes: ``--pin``, and with ``profiling`` the
    py-spy ``--profile`` and the ``--no-raw`` switch for the transport-alone line."""
    if profiling:
        parser.add_argument(
            "--profile",
            nargs="?",
            const=True,
            default=False,
            metavar="native",
            help="py-spy the engine worker (--profile native: with C frames)",
        )
        parser.add_argument("--no-raw", action="store_true", help="skip the transport-alone line")
    parser.add_argument("--pin", action="store_true", help=PIN_HELP)
