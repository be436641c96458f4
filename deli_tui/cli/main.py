"""The ``deli-tui`` command: the TUI by default, plus ``run``, ``attach``, ``import`` and
``demo-server``.

Textual is imported only when the TUI is actually opened, so headless runs in CI stay light.
Exit codes: 0 success / thresholds passed, 1 a threshold failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from deli_tui.cli.exit_codes import ExitCode

SUBCOMMANDS = ("run", "attach", "import", "demo-server")


def _demo_server_main(argv: Sequence[str]) -> int:
    from deli_tui.demo_server import serve

    parser = argparse.ArgumentParser(
        prog="deli-tui demo-server", description="Serve the embedded demo target."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    args = parser.parse_args(argv)
    serve(args.host, args.port)
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


def _import_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deli-tui import", description="Turn a Postman collection or a curl line into files."
    )
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="{postman,curl}")
    postman = kinds.add_parser("postman", help="a Postman v2.1 collection -> a new collection dir")
    postman.add_argument("source", metavar="COLLECTION.json")
    postman.add_argument("dest", metavar="DEST_DIR", help="new collection directory")
    postman.add_argument("--environment", metavar="ENV.json", help="Postman environment -> .env")
    curl = kinds.add_parser("curl", help="a curl command line -> a request file")
    curl.add_argument("command", metavar="'curl ...'", help="the whole command, quoted")
    curl.add_argument("--into", metavar="COLLECTION_DIR", required=True)
    curl.add_argument("--name", metavar="NAME", help="request name (default: from the URL)")
    curl.add_argument("--folder", metavar="F", help="folder inside the collection")
    return parser


def _check_environment(path: Path) -> str | None:
    """Why a Postman environment file cannot be used, or None when it can."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return f"cannot read the Postman environment: {exc.strerror or exc}"
    except ValueError as exc:
        return f"the Postman environment is not JSON: {exc}"
    if not isinstance(data, dict) or not isinstance(data.get("values", []), list):
        return "not a Postman environment (expected an object with a 'values' list)"
    return None


def _import_postman(args: argparse.Namespace) -> str:
    from engine.collection.importers import import_postman

    environment = Path(args.environment) if args.environment else None
    if environment is not None:
        problem = _check_environment(environment)
        if problem is not None:
            raise _ImportRefused(f"{environment}: {problem}")
    dest = Path(args.dest)
    existed = dest.exists()
    try:
        result = import_postman(Path(args.source), dest, environment=environment)
    except BaseException as exc:
        if not existed:  # leave no half-imported collection behind
            shutil.rmtree(dest, ignore_errors=True)
        if not isinstance(exc, AttributeError | KeyError | TypeError | ValueError):
            raise
        raise _ImportRefused(
            f"{args.source}: not a valid Postman v2.1 collection ({type(exc).__name__}: {exc});"
            f" re-export it from Postman as Collection v2.1"
        ) from None
    _say_warnings(result.warnings)
    n = len(result.collection.requests)
    return f"imported {n} request(s) into {args.dest} (collection {result.collection.name!r})"


def _import_curl(args: argparse.Namespace) -> str:
    from engine.collection.importers import import_curl, parse_curl, slug
    from engine.collection.loader import COLLECTION_FILE, load_collection
    from engine.collection.model import Collection
    from engine.collection.saver import save_collection_file

    root = Path(args.into)
    try:
        first = shlex.split(args.command)[:1]
    except ValueError:
        first = ["curl"]  # parse_curl says what is wrong with the quoting
    if not first or Path(first[0]).name != "curl":
        raise _ImportRefused(
            f"expected a curl command line, got {args.command[:60]!r}; "
            "e.g. deli-tui import curl 'curl https://127.0.0.1:8089/json' --into DIR"
        )
    parsed, _ = parse_curl(args.command)  # a bad command fails before anything is written
    if root.exists() and not root.is_dir():
        raise _ImportRefused(f"--into {root}: not a directory")
    relpath = None
    if args.folder:
        folder = Path(args.folder)
        if folder.is_absolute() or ".." in folder.parts:
            raise _ImportRefused(f"--folder {args.folder}: must be a folder inside the collection")
        relpath = folder / f"{slug(args.name or parsed.name)}.yaml"
    created = ""
    if not (root / COLLECTION_FILE).exists():
        root.mkdir(parents=True, exist_ok=True)
        save_collection_file(Collection(root=root, name=root.resolve().name))
        created = f" (new collection {root / COLLECTION_FILE})"
    collection = load_collection(root)
    req, warnings = import_curl(collection, args.command, relpath, args.name)
    _say_warnings(warnings)
    return f"added {req.name!r} as {(root / req.relpath).as_posix()}{created}"


class _ImportRefused(Exception):
    """Input the import cannot use; the message says which and why."""


def _say_warnings(warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _import_main(argv: Sequence[str]) -> int:
    from engine.errors import CollectionError

    args = _import_parser().parse_args(argv)
    try:
        message = _import_postman(args) if args.kind == "postman" else _import_curl(args)
    except _ImportRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except CollectionError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    print(message)
    return 0


def _attach_main(argv: Sequence[str]) -> int:
    from deli_tui.launch import attach_from_argv

    return attach_from_argv(argv)


def _tui_main(argv: Sequence[str]) -> int:
    from deli_tui.launch import tui_from_argv

    return tui_from_argv(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] == "run":
            return _run_main(args[1:])
        if args and args[0] == "attach":
            return _attach_main(args[1:])
        if args and args[0] == "import":
            return _import_main(args[1:])
        if args and args[0] == "demo-server":
            return _demo_server_main(args[1:])
        return _tui_main(args)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
