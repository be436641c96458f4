"""What the TUI costs while it renders a live run: CPU of the TUI process, bytes to the terminal.

    python benchmarks/tui_render.py [--seconds 20] [--sizes 80x24,160x48] [--passes 1] [--keys v]

Runs the installed ``deli-tui`` (a black box: nothing of deli_tui is imported) under a pseudo
terminal of each size with TERM=xterm-256color, on a copy of the demo collection with a longer
closed-model scenario, against ``deli-tui demo-server`` on a free 127.0.0.1 port. Once the
dashboard shows req/s it waits a few seconds, then counts for ``--seconds``: the bytes read
from the pty master and the CPU time of the TUI process alone (the engine and the demo server
run in their own processes). ``--passes N`` measures each size N times, alternating sizes, and
prints every pass and the range (the machine is shared: one pass can land on a busy moment).
``--keys`` are typed once the dashboard shows (``--keys v``: the charts view of a small
terminal).
Targets (issue 4): < 5% of one core at 2 updates/s,
< 16 KiB/s at 80x24 and < 48 KiB/s at 160x48.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
WARMUP_S = 4.0
SCENARIO = "tui-bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"demo server did not listen on 127.0.0.1:{port}")


def bench_collection(tmp: Path, seconds: float) -> Path:
    """A copy of the demo collection with a closed-model scenario long enough to measure."""
    root = tmp / "demo"
    shutil.copytree(ROOT / "sample_collections" / "demo", root)
    path = root / "collection.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["scenarios"][SCENARIO] = {
        "model": "closed",
        "users": 10,
        "duration": f"{int(seconds + WARMUP_S + 15)}s",
        # the smoke scenario's plain requests (the flow requests need a data file and setup)
        "requests": doc["scenarios"]["smoke"]["requests"],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


class PtyRun:
    """``deli-tui`` on a pty of a given size; reads the master and counts bytes."""

    def __init__(self, argv: list[str], cols: int, rows: int) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.master = master
        self.total = 0
        self.tail = b""
        self.seen: bytes | None = None  # output kept while pump_until looks for a needle

    def pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.1))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    return
                self.total += len(chunk)
                self.tail = (self.tail + chunk)[-8192:]
                if self.seen is not None:
                    self.seen += chunk

    def pump_until(self, needle: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self.seen = b""
        while needle not in self.seen:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"deli-tui never showed {needle!r}; last output: {self.tail!r}")
            self.pump(0.1)
        self.seen = None

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def finish(self) -> None:
        self.send(b"s")
        self.pump(3.0)
        self.send(b"\x11")  # ctrl+q
        deadline = time.monotonic() + 20
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.pump(0.2)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        os.close(self.master)


def measure(
    deli: str, root: Path, port_file: Path, cols: int, rows: int, seconds: float, keys: str = ""
) -> dict:
    run = PtyRun([deli, str(root), "--env-file", str(port_file), "--run", SCENARIO], cols, rows)
    try:
        run.pump_until(b"req/s", 60.0)
        if keys:
            run.send(keys.encode())
        run.pump(WARMUP_S)
        tui = psutil.Process(run.proc.pid)
        cpu0 = sum(tui.cpu_times()[:2])
        bytes0, t0 = run.total, time.monotonic()
        run.pump(seconds)
        cpu1 = sum(tui.cpu_times()[:2])
        bytes1, t1 = run.total, time.monotonic()
    finally:
        run.finish()
    elapsed = t1 - t0
    return {
        "size": f"{cols}x{rows}",
        "seconds": elapsed,
        "cpu_pct": 100.0 * (cpu1 - cpu0) / elapsed,
        "bytes_per_s": (bytes1 - bytes0) / elapsed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--sizes", default="80x24,160x48")
    parser.add_argument("--passes", type=int, default=1, help="measurements of each size")
    parser.add_argument("--keys", default="", help="keys to type once the dashboard shows")
    args = parser.parse_args()
    beside = Path(sys.executable).parent / "deli-tui"  # the venv's, when it is not on PATH
    deli = shutil.which("deli-tui") or (str(beside) if beside.exists() else None)
    if deli is None:
        print("deli-tui is not installed (pip install -e .)", file=sys.stderr)
        return 2
    port = free_port()
    server = subprocess.Popen(
        [deli, "demo-server", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    targets = {"80x24": 16 * 1024, "160x48": 48 * 1024}
    try:
        wait_port(port)
        with tempfile.TemporaryDirectory() as tmp:
            root = bench_collection(Path(tmp), args.seconds)
            port_file = Path(tmp) / "bench.env"
            port_file.write_text(f"port={port}\n")
            print(f"{'size':>8} {'CPU % of a core':>16} {'KiB/s to terminal':>18} {'target':>10}")
            results: dict[str, list[dict]] = {}
            for _ in range(args.passes):
                for size in args.sizes.split(","):
                    cols, rows = (int(x) for x in size.split("x"))
                    r = measure(deli, root, port_file, cols, rows, args.seconds, args.keys)
                    results.setdefault(r["size"], []).append(r)
                    target = targets.get(size)
                    target_text = f"{target / 1024:.0f} KiB/s" if target else "-"
                    print(
                        f"{r['size']:>8} {r['cpu_pct']:>16.2f} {r['bytes_per_s'] / 1024:>18.2f} "
                        f"{target_text:>10}   (over {r['seconds']:.1f} s, target CPU < 5%)",
                        flush=True,
                    )
            if args.passes > 1:
                print("ranges over the passes:")
                for size, runs in results.items():
                    cpu = sorted(r["cpu_pct"] for r in runs)
                    kib = sorted(r["bytes_per_s"] / 1024 for r in runs)
                    print(
                        f"{size:>8} CPU {cpu[0]:.2f}-{cpu[-1]:.2f} %   "
                        f"{kib[0]:.2f}-{kib[-1]:.2f} KiB/s"
                    )
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
