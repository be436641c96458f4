"""The ``cluster:`` setting and ``--cluster``: what an address may be, where a collection says
it, how workers are spread over nodes, and that nothing imports Ray unless a run needs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.collection.dumper import dump_collection_file
from engine.collection.loader import load_collection
from engine.plan.build import build_plan
from engine.plan.cluster_address import check_cluster_address, is_loopback
from engine.run.cluster_place import PlacementError, place_workers
from tests.cli.test_bad_input import run_cli
from tests.engine.collection_files import BASIC_REQUEST, load_problems, write_collection

HEADER = "name: x\nbase_url: http://127.0.0.1:9\n"


@pytest.mark.parametrize(
    "address",
    ["auto", "local", "127.0.0.1:6379", "ray://head.example:10001", "[::1]:6379", "head-1:6379"],
)
def test_ray_addresses_are_accepted_as_written(address: str) -> None:
    assert check_cluster_address(f" {address} ") == address


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("head", "not a Ray address"),
        ("head:0", "port must be a number"),
        ("head:port", "port must be a number"),
        ("ray://:10001", "not a Ray address"),
        ("bad host!:6379", "not a host name"),
    ],
)
def test_other_addresses_are_refused_saying_why(address: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_cluster_address(address)


def test_loopback_means_this_machine_only() -> None:
    assert is_loopback("local") and is_loopback("127.0.0.1:6379") and is_loopback("[::1]:1")
    assert not is_loopback("auto") and not is_loopback("10.0.0.5:6379")


def node(node_id: str, address: str, cpus: float, alive: bool = True) -> dict[str, object]:
    return {
        "NodeID": node_id,
        "Alive": alive,
        "NodeManagerAddress": address,
        "Resources": {"CPU": cpus},
    }


def test_workers_are_spread_over_the_nodes_in_turn_one_cpu_each() -> None:
    nodes = [node("aaaaaaaa", "10.0.0.1", 3), node("bbbbbbbb", "10.0.0.2", 1)]
    placed = place_workers(nodes, 4)
    assert [label for _, label in placed] == ["10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.1"]


def test_nodes_sharing_an_address_are_told_apart_by_their_id() -> None:
    nodes = [node("aaaaaa11", "127.0.0.1", 1), node("bbbbbb22", "127.0.0.1", 1)]
    assert [label for _, label in place_workers(nodes, 2)] == [
        "127.0.0.1/aaaaaa",
        "127.0.0.1/bbbbbb",
    ]


def test_too_few_cpus_is_refused_saying_what_the_cluster_has() -> None:
    nodes = [node("a", "10.0.0.1", 2), node("b", "10.0.0.2", 4, alive=False)]
    with pytest.raises(PlacementError, match=r"2 CPU\(s\) on 1 node\(s\) for 3 workers"):
        place_workers(nodes, 3)


def test_a_scenario_names_its_cluster_and_the_plan_carries_it(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": HEADER + "scenarios:\n  wide:\n    workers: 4\n    cluster: auto\n",
            "r.yaml": BASIC_REQUEST,
        },
    )
    collection = load_collection(root)
    assert collection.scenarios["wide"].cluster == "auto"
    assert build_plan(collection, "wide", environ={}).cluster == "auto"
    assert "    cluster: auto\n" in dump_collection_file(collection)


def test_a_bad_cluster_address_in_a_scenario_points_at_its_line(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": HEADER + "scenarios:\n  wide:\n    cluster: headnode\n",
            "r.yaml": BASIC_REQUEST,
        },
    )
    (problem,) = load_problems(root)
    assert problem.line == 5 and "cluster" in problem.message
    assert "ray://HOST:PORT" in problem.hint


def test_a_bad_cluster_option_exits_2_naming_it() -> None:
    result = run_cli("http://127.0.0.1:9/", "--cluster", "nowhere")
    assert result.returncode == 2
    assert "--cluster" in result.stderr and "not a Ray address" in result.stderr


def test_without_ray_the_cluster_option_says_how_to_install_it(tmp_path: Path) -> None:
    """Ray hidden from the interpreter (a module finder that refuses it), as when not installed."""
    hide = tmp_path / "sitecustomize.py"
    hide.write_text(
        "import sys\n"
        "class _NoRay:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'ray' or name.startswith('ray.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, _NoRay())\n"
    )
    result = run_cli("http://127.0.0.1:9/", "--cluster", "local", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 2, result.stderr
    assert "pip install 'deli-tui[cluster]'" in result.stderr


def test_no_module_imports_ray_until_a_run_asks_for_a_cluster() -> None:
    """Every module of engine and deli_tui imported, the cluster ones included: only
    ``engine.run.cluster.import_ray`` imports Ray, when a run on a cluster starts."""
    code = (
        "import pkgutil, importlib, sys\n"
        "import engine, deli_tui\n"
        "for package in (engine, deli_tui):\n"
        "    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        if not info.name.endswith('__main__'):\n"
        "            importlib.import_module(info.name)\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"
