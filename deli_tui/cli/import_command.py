"""``deli-tui import postman|curl|har|openapi|posting``: other tools' requests as collections.

Each importer writes a new collection directory (curl adds one file to a collection) and this
command prints what was made, where secrets went, what was left out on purpose (stdout) and
every part of the input that was not carried over (``warning:`` lines on stderr). Bad input,
or a destination that already holds something, exits 2 with the reason and nothing written.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from deli_tui.cli.exit_codes import ExitCode
from engine.collection.importers.writing import ImportResult
from engine.errors import CollectionError

KINDS = ("postman", "curl", "har", "openapi", "posting")


class ImportRefused(Exception):
    """Input the import cannot use; the message says which and why."""


def import_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deli-tui import",
        description="Turn requests from Postman, curl, a browser (HAR), an OpenAPI spec or "
        "Posting into collection files.",
    )
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="{" + ",".join(KINDS) + "}")
    postman = kinds.add_parser("postman", help="a Postman v2.1 collection -> a new collection dir")
    postman.add_argument("source", metavar="COLLECTION.json")
    postman.add_argument("dest", metavar="OUT_DIR", help="new collection directory")
    postman.add_argument("--environment", metavar="ENV.json", help="Postman environment -> .env")
    openapi = kinds.add_parser("openapi", help="an OpenAPI 3.0/3.1 spec -> a new collection dir")
    openapi.add_argument("source", metavar="SPEC", help="openapi.yaml or openapi.json")
    openapi.add_argument("dest", metavar="OUT_DIR", help="new collection directory")
    posting = kinds.add_parser("posting", help="a Posting directory -> a new collection dir")
    posting.add_argument("source", metavar="DIR", help="the directory of *.posting.yaml files")
    posting.add_argument("dest", metavar="OUT_DIR", help="new collection directory")
    posting.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="FILE",
        help="Posting env file to carry over (repeat; default: DIR/posting.env)",
    )
    har = kinds.add_parser("har", help="a browser recording (HAR) -> a new collection dir")
    har.add_argument("source", metavar="FILE.har")
    har.add_argument("dest", metavar="OUT_DIR", help="new collection directory")
    har.add_argument(
        "--host", action="append", default=[], metavar="HOST", help="keep only this host (repeat)"
    )
    har.add_argument(
        "--all", action="store_true", help="keep assets, preflights and other hosts' beacons too"
    )
    curl = kinds.add_parser("curl", help="a curl command line -> a request file")
    curl.add_argument("command", metavar="'curl ...'", help="the whole command, quoted")
    curl.add_argument("--into", metavar="COLLECTION_DIR", required=True)
    curl.add_argument("--name", metavar="NAME", help="request name (default: from the URL)")
    curl.add_argument("--folder", metavar="F", help="folder inside the collection")
    return parser


def _run_postman(args: argparse.Namespace) -> ImportResult:
    from engine.collection.importers.postman import import_postman

    environment = Path(args.environment) if args.environment else None
    return import_postman(Path(args.source), Path(args.dest), environment=environment)


def _run_har(args: argparse.Namespace) -> ImportResult:
    from engine.collection.importers.har import import_har

    return import_har(Path(args.source), Path(args.dest), hosts=args.host, keep_all=args.all)


def _run_openapi(args: argparse.Namespace) -> ImportResult:
    from engine.collection.importers.openapi import import_openapi

    return import_openapi(Path(args.source), Path(args.dest))


def _run_posting(args: argparse.Namespace) -> ImportResult:
    from engine.collection.importers.posting import import_posting

    return import_posting(Path(args.source), Path(args.dest), env=args.env)


def _run_curl(args: argparse.Namespace) -> ImportResult:
    from engine.collection.importers.curl import import_curl, parse_curl
    from engine.collection.importers.writing import ENV_FILE, GITIGNORE, slug
    from engine.collection.loader import COLLECTION_FILE, load_collection
    from engine.collection.model import Collection
    from engine.collection.saver import atomic_write, save_collection_file

    root = Path(args.into)
    try:
        first = shlex.split(args.command)[:1]
    except ValueError:
        first = ["curl"]  # parse_curl says what is wrong with the quoting
    if not first or Path(first[0]).name != "curl":
        raise ImportRefused(
            f"expected a curl command line, got {args.command[:60]!r}; "
            "e.g. deli-tui import curl 'curl https://127.0.0.1:8089/json' --into DIR"
        )
    parsed, _ = parse_curl(args.command)  # a bad command fails before anything is written
    if root.exists() and not root.is_dir():
        raise ImportRefused(f"--into {root}: not a directory")
    relpath = None
    if args.folder:
        folder = Path(args.folder)
        if folder.is_absolute() or ".." in folder.parts:
            raise ImportRefused(f"--folder {args.folder}: must be a folder inside the collection")
        relpath = folder / f"{slug(args.name or parsed.name)}.yaml"
    if not (root / COLLECTION_FILE).exists():
        root.mkdir(parents=True, exist_ok=True)
        new = Collection(root=root, name=root.resolve().name, env_file=ENV_FILE)
        save_collection_file(new)
        if not (root / GITIGNORE).exists():
            atomic_write(root / GITIGNORE, f"{ENV_FILE}\n")
        print(f"made a new collection: {root / COLLECTION_FILE}")
    result = import_curl(load_collection(root), args.command, relpath, args.name)
    req = result.collection.requests[-1]
    print(f"added {req.name!r} as {(root / req.relpath).as_posix()}")
    return result


RUNNERS: dict[str, Callable[[argparse.Namespace], ImportResult]] = {
    "postman": _run_postman,
    "curl": _run_curl,
    "har": _run_har,
    "openapi": _run_openapi,
    "posting": _run_posting,
}


def report(result: ImportResult, dest: str | None) -> None:
    """What was made, where secrets went, what was left out; warnings go to stderr."""
    if dest is not None:
        n = len(result.collection.requests)
        print(f"imported {n} request(s) into {dest} (collection {result.collection.name!r})")
        for line in result.made:
            print(f"  {line}")
        for s in result.collection.scenarios.values():
            load = f"{s.users} user(s)" if s.model == "closed" else f"{s.rate:g}/s"
            print(
                f"scenario {s.name!r}: {len(s.requests) or 'all'} request(s) in order, {load},"
                f" {s.duration_s:g}s (deli-tui run {dest} --scenario {s.name})"
            )
    if result.secrets and result.env_path is not None:
        print(
            f"kept out of the YAML, in {result.env_path} (mode 0600, in .gitignore): "
            + ", ".join(result.secrets)
        )
    if result.to_fill and result.env_path is not None:
        print(f"to fill in before a run, in {result.env_path}: " + ", ".join(result.to_fill))
    for note in result.notes:
        print(note)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.warnings:
        print(f"{len(result.warnings)} part(s) not carried over (see the warnings)")


def import_main(argv: Sequence[str]) -> int:
    args = import_parser().parse_args(list(argv))
    try:
        result = RUNNERS[args.kind](args)
    except ImportRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except CollectionError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        source = getattr(args, "source", None) or args.kind
        print(
            f"error: {source}: not a valid {args.kind} file ({type(exc).__name__}: {exc})",
            file=sys.stderr,
        )
        return ExitCode.BAD_INPUT
    report(result, getattr(args, "dest", None))
    return 0
