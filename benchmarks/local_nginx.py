"""A throwaway nginx on 127.0.0.1 for the benchmarks, plus the Debian tools they compare with.

``LocalNginx`` writes a temp config (``worker_processes N; access_log off;`` and
``location / { return 200 "ok"; }``), listens on an ephemeral plain-HTTP port and, when asked,
on an HTTPS port with ``http2`` and a certificate made on the spot (trustme, or ``openssl``
when trustme is missing). Everything it started is stopped on exit, and its temp directory goes.
``access_log=True`` logs every request (``access_log_statuses()`` counts them), and
``stock_http2=True`` leaves nginx's HTTP/2 settings at their defaults.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

# Debian package that provides each tool the benchmarks run.
DEBIAN_PACKAGES = {"nginx": "nginx-light", "wrk": "wrk", "h2load": "nghttp2-client"}
_SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")


def find_tool(name: str) -> str | None:
    """The path of ``name`` on PATH or in the sbin directories (nginx lives in /usr/sbin)."""
    found = shutil.which(name)
    if found:
        return found
    for directory in _SBIN:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def ensure_tools(*names: str) -> dict[str, str]:
    """Paths of the named tools; installs the missing ones with apt-get (needs root)."""
    missing = [n for n in names if find_tool(n) is None]
    if missing:
        packages = sorted({DEBIAN_PACKAGES[n] for n in missing})
        print(f"installing {' '.join(packages)} (missing: {' '.join(missing)})", flush=True)
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", *packages], check=True, env=env)
    paths = {}
    for name in names:
        path = find_tool(name)
        if path is None:
            sys.exit(f"{name} is still missing; install the Debian package {DEBIAN_PACKAGES[name]}")
        paths[name] = path
    return paths


def _die_with_parent() -> None:
    """In the child before exec: SIGQUIT (nginx's graceful stop) when our process dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGQUIT)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    """An ephemeral port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_certificate(directory: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, cert.pem, key.pem) for 127.0.0.1 and localhost, valid for this run only."""
    ca_path, cert_path, key_path = (
        directory / "ca.pem",
        directory / "cert.pem",
        directory / "key.pem",
    )
    try:
        import trustme
    except ImportError:
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", str(key_path), "-out", str(cert_path),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        shutil.copyfile(cert_path, ca_path)  # self-signed: the certificate is its own CA
        return ca_path, cert_path, key_path
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(ca_path))
    server.private_key_pem.write_to_path(str(key_path))
    server.cert_chain_pems[0].write_to_path(str(cert_path))
    for extra in server.cert_chain_pems[1:]:
        with cert_path.open("ab") as fh:
            fh.write(extra.bytes())
    return ca_path, cert_path, key_path


_CONFIG = """\
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log {access_log};
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    keepalive_requests {keepalive_requests};
    server {{
        listen 127.0.0.1:{http_port};
{tls_listen}{locations}
    }}
}}
"""
DEFAULT_LOCATIONS = '        location / { return 200 "ok"; }'
_TLS_LISTEN = """\
        listen 127.0.0.1:{https_port} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
{http2_settings}"""
_HTTP2_SETTINGS = "        http2_max_concurrent_streams 256;\n"


class LocalNginx:
    """nginx on 127.0.0.1: ``http_url`` always, ``https_url`` (h2 over TLS) when ``tls``."""

    def __init__(
        self,
        workers: int = 1,
        tls: bool = False,
        keepalive_requests: int = 10_000_000,
        locations: str = DEFAULT_LOCATIONS,
        *,
        access_log: bool = False,
        stock_http2: bool = False,
    ) -> None:
        """``locations``: the server block's ``location`` lines (default: ``/`` answers
        ``ok``)."""
        self.locations = locations
        self.workers = workers
        self.tls = tls
        self.keepalive_requests = keepalive_requests
        self.access_log = access_log
        self.stock_http2 = stock_http2
        self.http_port = 0
        self.https_port = 0
        self.ca_file: Path | None = None
        self.root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}/"

    @property
    def pids(self) -> list[int]:
        """The master's and workers' process ids (for CPU accounting)."""
        import psutil

        if self._process is None:
            return []
        master = psutil.Process(self._process.pid)
        return [master.pid, *(c.pid for c in master.children())]

    def pin(self, cpus: set[int] | None) -> None:
        """Keep nginx's processes on ``cpus`` (None: leave them where they are)."""
        if cpus is None:
            return
        for pid in self.pids:
            os.sched_setaffinity(pid, cpus)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the master and its workers."""
        import psutil

        total = 0.0
        for pid in self.pids:
            try:
                cpu = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            total += cpu.user + cpu.system
        return total

    def access_log_statuses(self) -> dict[int, int]:
        """Requests in the access log so far, by status (the default ``combined`` format)."""
        counts: dict[int, int] = {}
        if self.root is None or not (self.root / "access.log").exists():
            return counts
        with (self.root / "access.log").open("rb") as fh:
            for line in fh:
                # ... "GET / HTTP/2.0" 200 2 "-" "deli-tui/0.1"
                fields = line.split(b'" ', 1)[1].split(b" ", 1) if b'" ' in line else [b"0"]
                status = int(fields[0]) if fields[0].isdigit() else 0
                counts[status] = counts.get(status, 0) + 1
        return counts

    def start(self) -> LocalNginx:
        nginx = ensure_tools("nginx")["nginx"]
        self.root = Path(tempfile.mkdtemp(prefix="deli-bench-nginx-"))
        self.root.chmod(0o755)  # workers run as nobody when the master is root
        tls_listen = ""
        for attempt in range(5):
            self.http_port = free_port()
            if self.tls:
                self.https_port = free_port()
                self.ca_file, cert, key = write_certificate(self.root)
                tls_listen = _TLS_LISTEN.format(
                    https_port=self.https_port,
                    cert=cert,
                    key=key,
                    http2_settings="" if self.stock_http2 else _HTTP2_SETTINGS,
                )
            conf = self.root / "nginx.conf"
            conf.write_text(
                _CONFIG.format(
                    workers=self.workers,
                    root=self.root,
                    http_port=self.http_port,
                    tls_listen=tls_listen,
                    keepalive_requests=self.keepalive_requests,
                    locations=self.locations,
                    access_log=f"{self.root}/access.log" if self.access_log else "off",
                )
            )
            self._process = subprocess.Popen(
                [
                    nginx,
                    "-p",
                    str(self.root),
                    "-e",
                    str(self.root / "error.log"),
                    "-c",
                    str(conf),
                    "-g",
                    "daemon off;",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
            if self._wait_ready():
                return self
            self._process.kill()
            self._process.wait()
            if attempt == 4:
                log = (self.root / "error.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"nginx did not start:\n{log}")
        return self

    def _wait_ready(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        ports = [self.http_port] + ([self.https_port] if self.tls else [])
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                for port in ports:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGQUIT)  # graceful: the workers go too
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> LocalNginx:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with LocalNginx(tls=True) as server:
        print(f"nginx up: {server.http_url} {server.https_url} (ca {server.ca_file}); Ctrl-C ends")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
