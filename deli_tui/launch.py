"""Entry points of the TUI: ``deli-tui [PATH] [--demo] [--run SCENARIO] [--env-file F]`` and
``deli-tui attach SOCKET``. Bad input exits 2 with a message, never a traceback."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from deli_tui.cli.exit_codes import ExitCode
from deli_tui.parent_death import die_with_parent

if TYPE_CHECKING:
    from textual.app import App


def _fail(message: str) -> int:
    print(f"deli-tui: {message}", file=sys.stderr)
    return ExitCode.BAD_INPUT


COMMANDS_HELP = """\
commands (each has its own --help):
  deli-tui [PATH]                   this app on a collection directory
  deli-tui run PATH|URL ...         a headless run: live lines, a summary, thresholds as exit code
  deli-tui attach SOCKET            the live dashboard of a run started with --listen SOCKET
  deli-tui serve [PATH]             this app in a web browser (--attach SOCKET: a run's dashboard)
  deli-tui new DIR                  a new collection in DIR, ready to open
  deli-tui import KIND ...          a collection from postman, curl, har or openapi
  deli-tui compare A.json B.json    two saved runs side by side (--fail-on: a CI gate)
  deli-tui demo-server              the demo target on 127.0.0.1 (prints its address)
"""


def tui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deli-tui",
        description="Browse and edit a request collection, send requests, run load scenarios.",
        epilog=COMMANDS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from deli_tui.cli.version import version

    parser.add_argument("--version", "-V", action="version", version=f"deli-tui {version()}")
    parser.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="collection directory (default: the current one, if it holds collection.yaml)",
    )
    parser.add_argument(
        "--demo", action="store_true", help="start the demo server and open the demo collection"
    )
    parser.add_argument("--run", metavar="SCENARIO", help="start this scenario at once")
    parser.add_argument("--env-file", metavar="F", help="variables file (KEY=value lines)")
    return parser


def resolve_collection_root(path: str | None) -> Path:
    """The collection directory for ``path`` (a directory or its collection.yaml, or a Posting
    directory); ValueError with a message saying what is missing."""
    from engine.collection.posting import is_posting_dir

    if path is None:
        root = Path.cwd()
        if not (root / "collection.yaml").is_file() and not is_posting_dir(root):
            raise ValueError(
                f"no collection.yaml in the current directory ({root}); "
                "give a collection directory, or try: deli-tui --demo"
            )
        return root
    candidate = Path(path).expanduser()
    if candidate.is_file() and candidate.name == "collection.yaml":
        return candidate.parent
    if not candidate.exists():
        raise ValueError(f"{path}: no such directory")
    if not candidate.is_dir():
        raise ValueError(f"{path}: not a collection directory (expected a folder)")
    if not (candidate / "collection.yaml").is_file() and not is_posting_dir(candidate):
        raise ValueError(
            f"{path}: no collection.yaml (nor Posting *.posting.yaml files) in this directory"
        )
    return candidate


def served_to_a_browser() -> bool:
    """Whether this app runs for ``deli-tui serve`` (Textual's web driver): it then stops
    when the server that started it stops."""
    return "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")


def tui_from_argv(argv: Sequence[str]) -> int:
    """Parse the arguments, load the collection, run the app; the process exit code."""
    args = tui_parser().parse_args(list(argv))
    if served_to_a_browser():
        die_with_parent()
    from deli_tui.demo import DemoServerProcess, locate_demo_collection

    demo: DemoServerProcess | None = None
    if args.demo:
        if args.path is not None:
            return _fail("--demo opens the demo collection; leave out PATH")
        demo_root = locate_demo_collection()
        if demo_root is None:
            return _fail("the demo collection is missing from this installation")
        root = demo_root
    else:
        try:
            root = resolve_collection_root(args.path)
        except ValueError as exc:
            return _fail(str(exc))
    env_file = Path(args.env_file) if args.env_file else None
    if env_file is not None and not env_file.is_file():
        return _fail(f"--env-file {args.env_file}: no such file")

    from deli_tui.app import DeliApp, open_workspace
    from engine.errors import CollectionError

    try:
        workspace = open_workspace(root, env_file, None)
    except CollectionError as exc:
        return _fail("the collection does not load:\n" + "\n".join(f"  {p}" for p in exc.problems))
    if args.run is not None and args.run not in workspace.collection.scenarios:
        known = ", ".join(workspace.collection.scenarios) or "none"
        return _fail(f"--run {args.run}: no such scenario (scenarios: {known})")
    if args.demo:
        demo = DemoServerProcess()
        try:
            demo.start()
        except RuntimeError as exc:
            return _fail(str(exc))
        workspace.base_url_override = demo.url
    try:
        app = DeliApp(workspace, run_scenario=args.run)
        app.run()
    finally:
        if demo is not None:
            demo.stop()
    return int(app.return_code or 0)


def attach_from_argv(argv: Sequence[str]) -> int:
    """``deli-tui attach SOCKET``: watch a headless run started with ``--listen SOCKET``."""
    parser = argparse.ArgumentParser(
        prog="deli-tui attach",
        description="Open the live dashboard of a run started with `deli-tui run ... --listen`.",
    )
    parser.add_argument("socket", metavar="SOCKET", help="the --listen socket path of the run")
    args = parser.parse_args(list(argv))
    if served_to_a_browser():
        die_with_parent()
    if not os.path.exists(args.socket):
        return _fail(f"{args.socket}: no such socket (is the run still going?)")
    app = attach_app(args.socket)
    app.run()
    return int(app.return_code or 0)


def attach_app(socket_path: str) -> App[int]:
    """A viewer app whose only screen is the live dashboard of the run at ``socket_path``."""
    from textual.app import App
    from textual.binding import Binding, BindingType
    from textual.screen import Screen

    from deli_tui.screens.run import RunScreen
    from deli_tui.widgets.key_footer import key_label

    class AttachApp(App[int]):
        """A viewer of one remote run; leaving the dashboard (d or escape) ends it."""

        CSS_PATH = "app.tcss"
        TITLE = "deli-tui attach"
        BINDINGS: ClassVar[list[BindingType]] = [
            Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit")
        ]

        def get_key_display(self, binding: Binding) -> str:
            return key_label(binding)

        def get_default_screen(self) -> Screen[None]:
            # The only screen: leaving it (detach) ends the viewer, never the run.
            return RunScreen.for_attach(socket_path)

    return AttachApp()
