"""Stress mode from YAML and the command line to the plan: the steps' loads, the stages that
hold them, and every mistake named with its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.collection.dumper import dump_collection_file
from engine.collection.loader import load_collection
from engine.errors import CollectionError
from engine.load.shapes import target_at
from engine.plan.build import PlanOverrides, build_plan
from engine.plan.stress import stress_loads, stress_problems, stress_profile

STRESS = """\
name: shop
base_url: http://127.0.0.1:9
scenarios:
  find-limit:
    model: stress
    over: {over}
    start: 10
    step: 10
    step_duration: 10s
    max: 50
    until: [p95 > 200ms, error_rate > 1%]
"""


def collection(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "collection.yaml").write_text(text)
    (root / "home.yaml").write_text("name: Home\nurl: /\n")
    return root


def test_loads_rise_by_step_and_end_at_max() -> None:
    assert stress_loads(10, 10, 50) == (10, 20, 30, 40, 50)
    assert stress_loads(10, 15, 50) == (10, 25, 40, 50)  # max is always the last step
    assert stress_loads(5, 10, 5) == (5,)


def test_the_profile_jumps_to_each_load_and_holds_it() -> None:
    profile = stress_profile("closed", (10, 20, 30), 10.0)
    assert profile.duration_s == 30.0
    assert [target_at(profile, t)[0] for t in (0.0, 9.9, 10.0, 15.0, 20.0, 29.9)] == [
        10,
        10,
        20,
        20,
        30,
        30,
    ]
    assert target_at(profile, 15.0)[2] == "step 2/3: 20 users"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("users", 10, 10, 1.5, 50, ["p95 > 1s"]), "step_duration must be at least 2s"),
        (("users", 10.5, 10, 10.0, 50, ["p95 > 1s"]), "start must be a whole number"),
        (("users", 10, 10, 10.0, 5, ["p95 > 1s"]), "max (5) is below start (10)"),
        (("users", 10, 0, 10.0, 50, ["p95 > 1s"]), "step must be more than 0"),
        (("users", 10, 10, 10.0, 50, []), "until needs at least one condition"),
        (("users", 10, 10, 10.0, 50, ["p95[Home] > 1s"]), "judged as a whole"),
        (("users", 10, 10, 10.0, 50, ["p95 > fast"]), "is not a latency"),
        (("hosts", 10, 10, 10.0, 50, ["p95 > 1s"]), "over must be users or rate"),
        (("users", 1, 1, 10.0, 5000, ["p95 > 1s"]), "more than 1000 steps"),
    ],
)
def test_stress_problems_say_what_is_wrong(args: tuple, says: str) -> None:  # type: ignore[type-arg]
    problems = stress_problems(*args)
    assert any(says in message for _, message in problems), problems


@pytest.mark.parametrize(("over", "model"), [("users", "closed"), ("rate", "open")])
def test_a_stress_scenario_becomes_a_stepped_plan(tmp_path: Path, over: str, model: str) -> None:
    loaded = load_collection(collection(tmp_path, STRESS.format(over=over)))
    plan = build_plan(loaded, "find-limit", environ={})
    assert plan.stress is not None
    assert plan.stress.loads == (10, 20, 30, 40, 50) and plan.stress.step_s == 10.0
    assert plan.stress.until == ("p95 > 200ms", "error_rate > 1%")
    assert plan.stress.over == over and plan.profile.model == model
    assert plan.profile.duration_s == 50.0
    assert plan.thresholds == ()


def test_a_stress_scenario_saves_back_as_written(tmp_path: Path) -> None:
    root = collection(tmp_path, STRESS.format(over="rate"))
    loaded = load_collection(root)
    (root / "collection.yaml").write_text(dump_collection_file(loaded))
    again = load_collection(root)
    assert again.scenarios["find-limit"] == loaded.scenarios["find-limit"]
    assert "model: stress" in (root / "collection.yaml").read_text()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("step_duration: 10s", "step_duration: 1s"), ":9: scenario 'find-limit': step_duration"),
        (("max: 50", "max: 5"), "max (5) is below start (10)"),
        (("    until: [p95 > 200ms, error_rate > 1%]\n", ""), "until needs at least one"),
        (
            ("    over: users\n", "    over: users\n    users: 10\n"),
            "'users' does not apply to model: stress",
        ),
        (("model: stress", "model: closed"), "'over' only applies to model: stress"),
    ],
)
def test_stress_mistakes_point_at_the_file_and_line(
    tmp_path: Path, change: tuple[str, str], says: str
) -> None:
    text = STRESS.format(over="users").replace(*change)
    with pytest.raises(CollectionError) as info:
        load_collection(collection(tmp_path, text))
    assert says in str(info.value), str(info.value)


def test_load_options_do_not_apply_to_a_stress_scenario(tmp_path: Path) -> None:
    loaded = load_collection(collection(tmp_path, STRESS.format(over="users")))
    with pytest.raises(CollectionError, match="--users does not apply to a stress run"):
        build_plan(loaded, "find-limit", PlanOverrides(users=5), environ={})
