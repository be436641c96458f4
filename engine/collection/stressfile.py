"""``model: stress`` in ``collection.yaml``: over, start, step, step_duration, max, until.

Read apart from the other scenario keys so every mistake points at its own line: a missing
setting at the scenario, a wrong one at its value, and load keys that mean nothing for a
stress run (users, duration, thresholds...) at themselves.
"""

from __future__ import annotations

from yaml.nodes import Node

from engine.collection.model import StressDef
from engine.collection.nodes import NodeReader
from engine.plan.stress import OVER, UNTIL_HINT, stress_problems

STRESS_KEYS = ("over", "start", "step", "step_duration", "max", "until")
# what a stress run's steps replace: its load shape, its length, its verdict
NOT_FOR_STRESS = (
    "profile",
    "users",
    "rate",
    "duration",
    "ramp_up",
    "spike_to",
    "spike_duration",
    "stages",
    "iterations",
    "thresholds",
)
STEP_HINT = "e.g. start: 10, step: 10, step_duration: 10s, max: 500"


def read_stress(reader: NodeReader, node: Node, keys: dict[str, Node], where: str) -> StressDef:
    """The stress settings of a ``model: stress`` scenario; problems go to ``reader``."""
    d = StressDef()
    for key in NOT_FOR_STRESS:
        if key in keys:
            reader.add(
                keys[key],
                f"{where}: '{key}' does not apply to model: stress",
                "a stress run's load is over/start/step/max, and until judges each step",
            )
    if "over" in keys:
        over = reader.choice(keys["over"], f"{where}: over", OVER)
        if over is not None:
            d.over = over
    for key in ("start", "step", "max"):
        if key not in keys:
            reader.add(node, f"{where}: model stress needs {key}", STEP_HINT)
            continue
        number = reader.number(keys[key], f"{where}: {key}")
        if number is not None:
            setattr(d, key, float(number))
    if "step_duration" in keys:
        seconds = reader.duration(keys["step_duration"], f"{where}: step_duration")
        if seconds is not None:
            d.step_duration_s = seconds
    if "until" in keys:
        for item in reader.sequence(keys["until"], f"{where}: until") or []:
            expr = reader.text(item, f"{where}: until")
            if expr is not None:
                d.until.append(expr)
    if all(key in keys for key in ("start", "step", "max")):
        for key, message in stress_problems(
            d.over, d.start, d.step, d.step_duration_s, d.max, d.until
        ):
            reader.add(
                keys.get(key, node), f"{where}: {message}", UNTIL_HINT if key == "until" else ""
            )
    return d


def misplaced_stress_keys(reader: NodeReader, keys: dict[str, Node], where: str) -> None:
    """Stress settings in a scenario that is not ``model: stress``."""
    for key in STRESS_KEYS:
        if key in keys:
            reader.add(
                keys[key],
                f"{where}: '{key}' only applies to model: stress",
                "add model: stress to the scenario, or remove it",
            )
