"""The import graph of ``engine`` and ``deli_tui``, read from the source with ``ast``: no
module imports itself back through others, and the engine never imports Textual or the app.

Every import counts wherever it is written: at module level, inside a function, or under
``if TYPE_CHECKING:`` (a circle that only the type checker sees is still a circle to a reader).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from graphlib import CycleError, TopologicalSorter
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "deli_tui")


def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module name -> source file, for every ``.py`` file of ``packages``."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> dict[str, int]:
    """The modules of ``known`` that ``name`` imports, with the line of the first import."""
    is_package = path.name == "__init__.py"
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, *([node.module] if node.module else [])])
            for alias in node.names:
                # ``from pkg import mod`` imports the module pkg.mod; ``from mod import f``, mod.
                targets.append(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
        for target in targets:
            # ``import a.b.c`` runs a.b.c; the nearest known module is what it depends on.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.setdefault(target, node.lineno)
    return found


def import_graph(root: Path, packages: Iterable[str]) -> dict[str, dict[str, int]]:
    files = module_files(root, packages)
    known = set(files)
    return {name: imports_of(name, path, known) for name, path in files.items()}


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str]:
    """A circle of imports as ``[a, b, ..., a]`` (a imports b ...), or [] when there is none."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        return list(reversed(exc.args[1]))  # graphlib lists each node before its importer
    return []


def describe(graph: dict[str, dict[str, int]], circle: list[str]) -> str:
    return "\n".join(f"  {a} (line {graph[a][b]}) imports {b}" for a, b in pairwise(circle))


def test_engine_and_app_have_no_import_cycles():
    graph = import_graph(ROOT, PACKAGES)
    circle = find_cycle(graph)
    assert not circle, f"import cycle {' -> '.join(circle)}:\n{describe(graph, circle)}"


def test_engine_never_imports_textual_or_the_app():
    offenders = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] in ("textual", "deli_tui"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert not offenders, "the engine imports the UI side:\n" + "\n".join(offenders)


def test_the_walk_sees_imports_in_functions_and_under_type_checking():
    graph = import_graph(ROOT, PACKAGES)
    assert "deli_tui.screens.run" in graph["deli_tui.app"]  # module level
    assert "deli_tui.app" in graph["deli_tui.launch"]  # inside a function
    assert "engine.run.process" in graph["deli_tui.engine_bridge"]  # under TYPE_CHECKING
    assert (
        "engine.run.protocol" in graph["deli_tui.engine_bridge"]
    )  # from engine.run import protocol


def test_a_circle_through_a_function_level_import_is_found_and_named(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import c\n"
    )
    (pkg / "c.py").write_text("import pkg.a\n")
    (pkg / "d.py").write_text("from pkg import a\n")  # imports into the circle, not part of it
    graph = import_graph(tmp_path, ["pkg"])
    circle = find_cycle(graph)
    assert len(circle) == 4 and circle[0] == circle[-1]
    assert {circle[0], circle[1], circle[2]} == {"pkg.a", "pkg.sub.b", "pkg.c"}
    assert "pkg.a (line 2) imports pkg.sub.b" in describe(graph, circle)  # in import order
    del graph["pkg.c"]["pkg.a"]
    assert find_cycle(graph) == []
