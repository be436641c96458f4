"""``deli-tui new DIR``: a new collection, ready to open (a smoke scenario and one request)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from deli_tui.cli.exit_codes import ExitCode


def new_parser() -> argparse.ArgumentParser:
    from engine.collection.scaffold import DEFAULT_BASE_URL

    parser = argparse.ArgumentParser(
        prog="deli-tui new",
        description="Create a collection: collection.yaml with a smoke scenario, and home.yaml.",
    )
    parser.add_argument("dir", metavar="DIR", help="the directory (made if missing)")
    parser.add_argument("--name", help="the collection's name (default: the directory's)")
    parser.add_argument(
        "--base-url",
        default=DEFAULT_BASE_URL,
        help=f"where the requests go (default: {DEFAULT_BASE_URL}, the demo server)",
    )
    return parser


def new_main(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Entry of ``deli-tui new``; returns the exit code."""
    from engine.collection.scaffold import create_collection
    from engine.errors import CollectionError

    out = out or sys.stdout
    err = err or sys.stderr
    args = new_parser().parse_args(list(argv))
    try:
        collection = create_collection(args.dir, args.name, args.base_url)
    except CollectionError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=err)
        return ExitCode.BAD_INPUT
    except OSError as exc:
        print(f"error: {args.dir}: {exc.strerror or exc}", file=err)
        return ExitCode.BAD_INPUT
    files = ", ".join(["collection.yaml", *(r.relpath.as_posix() for r in collection.requests)])
    print(f"Created the collection {collection.name} in {args.dir} ({files}).", file=out)
    print(f"Open it: deli-tui {args.dir}", file=out)
    print(f"Run its smoke scenario: deli-tui run {args.dir} --scenario smoke", file=out)
    return ExitCode.PASSED
