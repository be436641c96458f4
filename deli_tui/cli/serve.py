"""``deli-tui serve``: the app, or the live dashboard of a headless run, in a web browser.

Each browser tab that opens the page gets its own ``deli-tui`` process, driven through
textual-serve (Textual's web driver over a websocket). The server listens on 127.0.0.1
unless ``--host`` says otherwise; it has no authentication of its own, and says so.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import socket
import sys
from collections.abc import Sequence
from typing import TextIO

from deli_tui.cli.exit_codes import ExitCode

DEFAULT_PORT = 8000
NO_AUTH = (
    "it has no authentication of its own: anyone who can reach this address can use the app "
    "(and send load from this machine)."
)


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deli-tui serve",
        description="Serve the app (or a headless run's live dashboard) in a web browser.",
    )
    parser.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="collection directory (default: the current one, if it holds collection.yaml)",
    )
    parser.add_argument(
        "--attach",
        metavar="SOCKET",
        help="serve the live dashboard of the run started with `deli-tui run ... --listen SOCKET`",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT}; 0: any free one)"
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use, when it is not http://HOST:PORT (a proxy, a tunnel)",
    )
    parser.add_argument("--env-file", metavar="F", help="variables file (KEY=value lines)")
    return parser


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def app_command(args: argparse.Namespace) -> tuple[list[str], str] | str:
    """The command each browser session runs and what it shows, or why there is none."""
    from deli_tui.launch import resolve_collection_root

    me = [sys.executable, "-m", "deli_tui"]
    if args.attach is not None:
        if args.path is not None:
            return "--attach serves a run's dashboard; leave out PATH"
        if not os.path.exists(args.attach):
            return f"--attach {args.attach}: no such socket (is the run still going?)"
        return [*me, "attach", os.path.abspath(args.attach)], f"the run at {args.attach}"
    try:
        root = resolve_collection_root(args.path)
    except ValueError as exc:
        return str(exc)
    command = [*me, str(root.resolve())]
    if args.env_file is not None:
        if not os.path.isfile(args.env_file):
            return f"--env-file {args.env_file}: no such file"
        command += ["--env-file", os.path.abspath(args.env_file)]
    return command, f"the collection {root}"


def serve_main(argv: Sequence[str], err: TextIO | None = None) -> int:
    """Entry of ``deli-tui serve``; returns the exit code once the server stops."""
    err = err or sys.stderr
    args = serve_parser().parse_args(list(argv))
    found = app_command(args)
    if isinstance(found, str):
        print(f"deli-tui serve: {found}", file=err)
        return ExitCode.BAD_INPUT
    command, what = found
    port = args.port
    try:
        port = free_port(args.host) if port == 0 else port
    except OSError as exc:
        print(f"deli-tui serve: cannot listen on {args.host}: {exc.strerror or exc}", file=err)
        return ExitCode.BAD_INPUT
    host_in_url = f"[{args.host}]" if ":" in args.host else args.host
    url = args.public_url or f"http://{host_in_url}:{port}"
    print(f"deli-tui serve: {what} on {url}", file=err)
    print(f"warning: {NO_AUTH}", file=err)
    if not is_loopback(args.host):
        print(
            f"warning: listening on {args.host}, not only on this machine. Prefer 127.0.0.1 "
            "behind an SSH tunnel or a proxy that asks who is there.",
            file=err,
        )
    err.flush()
    from textual_serve.server import Server

    # exec: the app replaces the shell, so it is this server's child and stops with it
    server = Server(
        "exec " + shlex.join(command), host=args.host, port=port, title="deli-tui", public_url=url
    )
    server.serve()
    return ExitCode.PASSED
