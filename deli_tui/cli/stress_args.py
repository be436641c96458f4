"""``deli-tui run``'s stress options: ``--stress OVER:START:STEP:MAX``, ``--step-duration``
and ``--until``, read into the scenario's stress settings."""

from __future__ import annotations

import argparse

from engine.collection.model import StressDef

LOAD_OPTIONS = (("users", "--users"), ("rate", "--rate"), ("duration", "--duration"),
                ("ramp_up", "--ramp-up"))  # fmt: skip


def add_stress_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stress",
        metavar="OVER:START:STEP:MAX",
        help="find the breaking point: raise users (or rate) from START by STEP up to MAX, "
        "e.g. users:10:10:500 or rate:100:100:5000",
    )
    parser.add_argument(
        "--step-duration", metavar="D", help="how long each stress step holds (default 10s)"
    )
    parser.add_argument(
        "--until",
        metavar="COND",
        action="append",
        default=[],
        help="a stress step breaks when COND holds on its results, e.g. 'p95 > 200ms', "
        "'error_rate > 1%%' (repeatable)",
    )


def stress_from_args(args: argparse.Namespace) -> StressDef | None:
    """The stress settings of ``--stress``; ValueError (naming the option) when unusable."""
    if args.stress is None:
        if args.until or args.step_duration:
            raise ValueError("--until and --step-duration go with --stress OVER:START:STEP:MAX")
        return None
    for attr, option in LOAD_OPTIONS:
        if getattr(args, attr) is not None:
            raise ValueError(f"{option} does not go with --stress: its steps set the load")
    parts = args.stress.split(":")
    if len(parts) != 4:
        raise ValueError(
            f"--stress {args.stress!r}: expected OVER:START:STEP:MAX, e.g. users:10:10:500"
        )
    over, *numbers = parts
    try:
        start, step, maximum = (float(n) for n in numbers)
    except ValueError:
        raise ValueError(
            f"--stress {args.stress!r}: START, STEP and MAX are numbers, e.g. users:10:10:500"
        ) from None
    step_s = 10.0
    if args.step_duration is not None:
        from engine.durations import parse_duration

        try:
            step_s = parse_duration(args.step_duration)
        except ValueError as exc:
            raise ValueError(f"--step-duration: {exc}") from None
    return StressDef(
        over=over, start=start, step=step, step_duration_s=step_s, max=maximum,
        until=list(args.until),
    )  # fmt: skip
