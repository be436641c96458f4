"""Workers on a Ray cluster against the same workers as local processes, and the supervisor's
merge at 100 and 1,000 workers.

1. A two-node Ray cluster on this machine (``ray.cluster_utils.Cluster``, one CPU each, control
   traffic on 127.0.0.1, no dashboard) and ``--workers 2 --cluster ADDRESS`` against nginx,
   beside ``--workers 2`` run locally, in the same run, alternating: req/s ratio (target
   >= 0.9) and the supervisor's CPU per window per worker in both.
2. The real ``Supervisor`` fed synthetic windows at 2 Hz per worker through worker pipes (as a
   cluster's bridge writes them) for 100 and 1,000 workers: its CPU (cores) and RSS.

    python benchmarks/cluster_vs_local.py [--duration 10] [--rounds 2] [--users 100]
        [--merge-seconds 20] [--merge-workers 100 1000] [--skip-cluster] [--skip-merge]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from multiprocessing.connection import Connection

import psutil
from engine_runs import REPO_ROOT, EngineRun, run_headless, stop_on_sigterm
from figure_table import print_table, ratio, verdict
from local_nginx import LocalNginx, ensure_tools

sys.path.insert(0, str(REPO_ROOT))

WINDOW_S = 0.5
ACTOR_TITLE = "ray::WorkerActor"


# --- 1. cluster against local ---------------------------------------------------------------


def start_cluster() -> tuple[object, str]:
    from engine.run.cluster import import_ray

    import_ray(loopback=True)
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 1, "object_store_memory": 100 * 1024 * 1024, "node_ip_address": "127.0.0.1"}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    cluster.add_node(**node)
    cluster.wait_for_nodes()
    return cluster, cluster.address


class ActorSampler:
    """CPU seconds of the worker actors (``ray::WorkerActor`` processes), sampled during a run:
    they are not the CLI's children, and they are gone when the run ends."""

    def __init__(self) -> None:
        self.series: dict[int, list[tuple[float, float]]] = {}

    def __call__(self, sample: object) -> None:
        now = time.monotonic()
        for process in psutil.process_iter(["cmdline"]):
            cmdline = process.info["cmdline"] or []
            if cmdline and cmdline[0].startswith(ACTOR_TITLE):
                try:
                    cpu = process.cpu_times()
                except psutil.Error:
                    continue
                self.series.setdefault(process.pid, []).append((now, cpu.user + cpu.system))

    def cores(self) -> float:
        """Their mean CPU (cores), first and last samples left out as for the engine's."""
        total = 0.0
        for points in self.series.values():
            points = points[1:-1] if len(points) >= 4 else points
            if len(points) >= 2 and points[-1][0] > points[0][0]:
                total += (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0])
        return total


BLOB_BYTES = 4096  # about a pickled window of one request name


class EchoActor:
    """Answers a poll at once with one window-sized blob, as a busy worker's actor would."""

    def poll(self, timeout: float) -> tuple[list[bytes], float, bool]:
        return [b"x" * BLOB_BYTES], 0.0, False


def bridge_cost(address: str, n_actors: int, seconds: float) -> list[object]:
    """The driver's CPU per poll when ``n_actors`` answer every poll at once: what the
    supervisor pays Ray for each window a cluster worker sends, on top of the merge."""
    import ray

    ray.init(address=address, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        echo = ray.remote(EchoActor)
        actors = [echo.options(num_cpus=0).remote() for _ in range(n_actors)]
        ray.get([a.poll.remote(0) for a in actors])
        pending = {a.poll.remote(0): a for a in actors}
        polls, cpu0, t0 = 0, time.process_time(), time.monotonic()
        while time.monotonic() - t0 < seconds:
            ready, rest = ray.wait(list(pending), num_returns=1, timeout=0.05)
            if ready and rest:
                more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
                ready += more
            for ref in ready:
                actor = pending.pop(ref)
                ray.get(ref)
                polls += 1
                pending[actor.poll.remote(0)] = actor
        cpu, wall = time.process_time() - cpu0, time.monotonic() - t0
        for actor in actors:
            ray.kill(actor)
    finally:
        ray.shutdown()
    return [n_actors, polls / wall, cpu / wall, 1e6 * cpu / max(polls, 1)]


def supervisor_us_per_window_per_worker(run: EngineRun, workers: int) -> float:
    """The supervisor's CPU (its cores while the load ran) per window per worker, in us."""
    return 1e6 * run.cores("supervisor") * WINDOW_S / workers


def cluster_against_local(args: argparse.Namespace) -> None:
    ensure_tools("nginx")
    cluster, address = start_cluster()
    local_rps: list[float] = []
    cluster_rps: list[float] = []
    rows: list[list[object]] = []
    commands: list[str] = []
    try:
        with LocalNginx(workers=1) as nginx:
            run_headless(nginx.http_url, users=args.users, duration_s=1.0, workers=2)  # warm-up
            for round_no in range(args.rounds):
                for where in ("local", "cluster"):
                    extra = ("--cluster", address) if where == "cluster" else ()
                    nginx0, actors = nginx.cpu_seconds(), ActorSampler()
                    run = run_headless(
                        nginx.http_url,
                        users=args.users,
                        duration_s=args.duration,
                        workers=2,
                        extra_args=extra,
                        on_sample=actors if where == "cluster" else None,
                    )
                    nginx_cores = (nginx.cpu_seconds() - nginx0) / run.wall_s
                    workers_cores = actors.cores() if where == "cluster" else run.cores("worker")
                    (cluster_rps if where == "cluster" else local_rps).append(run.rps)
                    commands.append(run.command.replace(address, "127.0.0.1:PORT"))
                    rows.append(
                        [
                            f"round {round_no + 1}: {where}",
                            run.rps,
                            run.errors,
                            workers_cores,
                            run.cores("supervisor"),
                            supervisor_us_per_window_per_worker(run, 2),
                            nginx_cores,
                        ]
                    )
                    print(f"round {round_no + 1} {where}: {run.rps:,.0f} req/s", flush=True)
        bridge_rows = [bridge_cost(address, actors, args.bridge_seconds) for actors in (2, 8)]
    finally:
        cluster.shutdown()  # type: ignore[attr-defined]
    print_table(
        f"The bridge's Ray round trips alone: one long-poll per actor always in flight, each "
        f"answered at once with a {BLOB_BYTES // 1024} KiB window ({args.bridge_seconds:g} s)",
        ("actors", "polls/s", "driver cores", "driver us/poll"),
        bridge_rows,
    )
    print_table(
        "deli-tui --workers 2: a two-node Ray cluster on this machine against local processes",
        (
            "run",
            "req/s",
            "errors",
            "worker cores",
            "supervisor cores",
            "sup us/window/worker",
            "nginx cores",
        ),
        rows,
    )
    got = ratio(statistics.median(cluster_rps), statistics.median(local_rps))
    print(
        f"cluster / local req/s (medians of {args.rounds}): {got:.3f}  target >= 0.9  "
        f"{verdict(got >= 0.9)}"
    )
    for command in dict.fromkeys(commands):
        print(f"  {command}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (2 cores)")


# --- 2. the supervisor's merge at many workers --------------------------------------------


class _FedProcess:
    """A worker's process as the supervisor's slot sees it, for workers that only feed windows."""

    pid = None
    exitcode = None

    def __init__(self) -> None:
        self._read, self._write = os.pipe()

    @property
    def sentinel(self) -> int:
        return self._read

    def kill(self) -> None:
        os.close(self._write)

    def join(self, timeout: float | None = None) -> None:
        pass


def synthetic_window(worker_id: int, seq: int, rps: float) -> object:
    """One worker's 0.5 s window at ``rps``: ~60 latency buckets, one request name, 200s."""
    from engine.metrics.histogram import bucket_index
    from engine.metrics.window import RequestWindow, WindowData

    n = int(rps * WINDOW_S)
    hist: dict[int, int] = {}
    for k in range(60):
        us = int(800 * 1.05**k)
        hist[bucket_index(us)] = hist.get(bucket_index(us), 0) + max(1, n // 60)
    pairs = tuple(sorted(hist.items()))
    total = sum(c for _, c in pairs)
    request = RequestWindow(
        total, 0, pairs, ((200, total),), (), 800_000, 9_000_000, total * 2_000_000
    )
    return WindowData(
        worker_id=worker_id,
        seq=seq,
        start_s=seq * WINDOW_S,
        end_s=(seq + 1) * WINDOW_S,
        requests=total,
        successes=total,
        per_request=(request,),
        latency_hist=pairs,
        service_hist=pairs,
        ttfb_hist=pairs,
        status_codes=((200, total),),
        bytes_in=total * 150,
        bytes_out=total * 60,
        active_users=10,
        target_users=10.0,
        in_flight=10,
        stage_label="constant",
        min_ns=800_000,
        max_ns=9_000_000,
        sum_ns=total * 2_000_000,
    )


def feed(conns: list[Connection], seconds: float, rps: float, start_at: float) -> None:
    """Feeder process: every 0.5 s, one window per worker into its pipe (pickled as the
    worker's own sender does)."""
    from multiprocessing.reduction import ForkingPickler

    from engine.run.worker_protocol import WorkerWindow

    seq = 0
    while seq * WINDOW_S < seconds:
        due = start_at + (seq + 1) * WINDOW_S
        time.sleep(max(0.0, due - time.monotonic()))
        for worker_id, conn in enumerate(conns):
            message = WorkerWindow(worker_id, synthetic_window(worker_id, seq, rps))  # type: ignore[arg-type]
            conn.send_bytes(ForkingPickler.dumps(message))
        seq += 1


def supervise(
    caller: Connection, worker_conns: list[Connection], seconds: float, ready: object
) -> None:
    """Supervisor process: the real ``Supervisor`` loop over ``len(worker_conns)`` slots."""
    from engine.metrics.aggregate import Aggregator
    from engine.plan.model import LoadProfile, PreparedRequest, RunPlan, Stage
    from engine.run.runstate import RunState, WorkerSlot
    from engine.run.supervisor import Supervisor

    n = len(worker_conns)
    request = PreparedRequest("ok", "GET", "http://127.0.0.1:9/", "http", "127.0.0.1", 9, "/", ())
    plan = RunPlan(
        "bench",
        "merge",
        "http://127.0.0.1:9",
        (request,),
        LoadProfile("closed", (Stage(seconds, 10 * n),), start_target=10 * n),
        workers=n,
    )
    supervisor = Supervisor(caller, None, None, os.getppid())
    slots = [
        WorkerSlot(i, _FedProcess(), conn, remote=True, read_cpu=lambda: None)
        for i, conn in enumerate(worker_conns)
    ]
    start = time.monotonic()
    supervisor.run = RunState(plan, Aggregator(plan), start, slots, next_publish=start)
    ready.set()  # type: ignore[attr-defined]
    while time.monotonic() - start < seconds + 1.0:
        supervisor._step()
    caller.send(("windows", supervisor.run.aggregator.windows_added if supervisor.run else 0))


def merge_at(n_workers: int, seconds: float, rps_per_worker: float) -> list[object]:
    ctx = multiprocessing.get_context("spawn")
    caller, theirs = ctx.Pipe(duplex=True)
    pairs = [ctx.Pipe(duplex=True) for _ in range(n_workers)]
    ready = ctx.Event()
    supervisor = ctx.Process(
        target=supervise, args=(theirs, [a for a, _ in pairs], seconds, ready), daemon=True
    )
    supervisor.start()
    ready.wait(60)
    feeder = ctx.Process(
        target=feed,
        args=([b for _, b in pairs], seconds, rps_per_worker, time.monotonic()),
        daemon=True,
    )
    feeder.start()
    ps = psutil.Process(supervisor.pid)
    time.sleep(1.0)  # the first windows; start-up left out
    cpu0, rss0, t0 = sum(ps.cpu_times()[:2]), ps.memory_info().rss, time.monotonic()
    snapshots = 0
    windows = 0
    while supervisor.is_alive():
        if caller.poll(0.1):
            message = caller.recv()
            if isinstance(message, tuple) and message[0] == "windows":
                windows = int(message[1])
                cpu1, rss1, t1 = sum(ps.cpu_times()[:2]), ps.memory_info().rss, time.monotonic()
                break
            snapshots += 1
    supervisor.join(10)
    feeder.join(10)
    cores = (cpu1 - cpu0) / (t1 - t0)
    per_window_us = 1e6 * (cpu1 - cpu0) / max(1.0, (t1 - t0) * n_workers / WINDOW_S)
    return [
        f"{n_workers:,} workers x 2 Hz ({n_workers * 2:,} windows/s)",
        windows,
        snapshots,
        cores,
        per_window_us,
        rss0 / 2**20,
        rss1 / 2**20,
    ]


def merge_at_scale(args: argparse.Namespace) -> None:
    rows = [merge_at(n, args.merge_seconds, args.merge_rps) for n in args.merge_workers]
    print_table(
        f"The supervisor fed synthetic windows ({args.merge_rps:g} req/s a worker, "
        f"{args.merge_seconds:g} s)",
        (
            "workers",
            "windows merged",
            "snapshots",
            "cores",
            "us/window",
            "RSS MiB start",
            "RSS MiB end",
        ),
        rows,
    )
    print(f"load average after: {os.getloadavg()[0]:.2f} (2 cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--merge-seconds", type=float, default=20.0)
    parser.add_argument("--merge-workers", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--merge-rps", type=float, default=5000.0)
    parser.add_argument("--bridge-seconds", type=float, default=5.0)
    parser.add_argument("--skip-cluster", action="store_true")
    parser.add_argument("--skip-merge", action="store_true")
    args = parser.parse_args()
    stop_on_sigterm()
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)", flush=True)
    if not args.skip_cluster:
        cluster_against_local(args)
    if not args.skip_merge:
        merge_at_scale(args)


if __name__ == "__main__":
    main()
