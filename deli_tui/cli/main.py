"""The ``deli-tui`` command: the TUI by default, plus ``run``, ``attach``, ``serve``, ``new``,
``compare``, ``import`` and ``demo-server``.

Textual is imported only when the TUI is actually opened, so headless runs in CI stay light.
Exit codes: 0 success / thresholds passed, 1 a threshold failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from deli_tui.cli.exit_codes import ExitCode
from deli_tui.cli.version import version

SUBCOMMANDS = ("run", "attach", "serve", "new", "compare", "import", "demo-server")


def _demo_server_main(argv: Sequence[str]) -> int:
    from deli_tui.demo_server import serve

    parser = argparse.ArgumentParser(
        prog="deli-tui demo-server", description="Serve the embedded demo target."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089, help="8089; 0: any free port")
    args = parser.parse_args(argv)

    def listening(url: str) -> None:
        print(f"deli-tui demo-server: listening on {url} (ctrl+c stops it)", flush=True)

    try:
        serve(args.host, args.port, listening=listening)
    except OSError as exc:
        print(
            f"deli-tui demo-server: cannot listen on {args.host}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return ExitCode.BAD_INPUT
    return 0


def _run_main(argv: Sequence[str]) -> int:
    from deli_tui.cli.run import add_run_arguments, run_from_args

    parser = argparse.ArgumentParser(
        prog="deli-tui run",
        description="Run a scenario headless: live lines, a summary, thresholds as exit code.",
    )
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    return run_from_args(args)


def _import_main(argv: Sequence[str]) -> int:
    from deli_tui.cli.import_command import import_main

    return import_main(argv)


def _attach_main(argv: Sequence[str]) -> int:
    from deli_tui.launch import attach_from_argv

    return attach_from_argv(argv)


def _tui_main(argv: Sequence[str]) -> int:
    from deli_tui.launch import tui_from_argv

    return tui_from_argv(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in ("--version", "-V"):
            print(f"deli-tui {version()}")
            return ExitCode.PASSED
        if args and args[0] == "serve":
            from deli_tui.cli.serve import serve_main

            return serve_main(args[1:])
        if args and args[0] == "new":
            from deli_tui.cli.new_command import new_main

            return new_main(args[1:])
        if args and args[0] == "run":
            return _run_main(args[1:])
        if args and args[0] == "attach":
            return _attach_main(args[1:])
        if args and args[0] == "compare":
            from deli_tui.cli.compare import compare_main

            return compare_main(args[1:])
        if args and args[0] == "import":
            return _import_main(args[1:])
        if args and args[0] == "demo-server":
            return _demo_server_main(args[1:])
        return _tui_main(args)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
