"""A 3-step flow against a static GET: what values passed between requests cost the engine.

nginx (1 worker) answers JSON: ``POST /login`` a token, ``GET /items`` a list of items and
``GET /items/7`` one item (both 401 without an ``Authorization`` header). In the same run,
alternating, deli-tui (1 worker, 100 users, through ``deli-tui run``) runs

- static: ``GET /items`` with a fixed bearer header, checks status 200 (the body is read);
- flow: setup ``Login`` once per user (its row of a 100-row users.csv, mode unique,
  ``extract: token``), then ``List items`` with ``Bearer {{token}}`` and
  ``extract: item_id: {json: $.items[0].id}``, then ``Get item`` at ``/items/{{item_id}}``,
  every request checking status 200.

The ratio is the flow's req/s (every request counted, logins included) over the static
one's; the target is >= 0.6.

    python benchmarks/flow_vs_static.py [--duration 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from engine_runs import add_common_arguments, run_headless, stop_on_sigterm
from figure_table import print_noise_note, print_table, ratio, verdict
from local_nginx import LocalNginx, ensure_tools

TARGET = 0.6
ITEMS = '{"items":[{"id":7,"name":"seven"},{"id":8,"name":"eight"},{"id":9,"name":"nine"}]}'
LOCATIONS = f"""\
        default_type application/json;
        location = /login {{ return 200 '{{"token":"t0k3n-for-this-user","user":"u"}}'; }}
        location = /items {{
            if ($http_authorization = "") {{ return 401; }}
            return 200 '{ITEMS}';
        }}
        location /items/ {{
            if ($http_authorization = "") {{ return 401; }}
            return 200 '{{"id":7,"name":"seven"}}';
        }}"""

COLLECTION = """\
name: flow bench
base_url: {base_url}
timeout: 10s
scenarios:
  static:
    requests: [Static items]
  flow:
    setup: [Login]
    requests: [List items, Get item]
    data: {{file: users.csv, as: user, mode: unique}}
"""
FILES = {
    "static.yaml": "name: Static items\nurl: /items\n"
    "headers: {Authorization: Bearer t0k3n-for-this-user}\nchecks: {status: 200}\n",
    "login.yaml": "name: Login\nmethod: POST\nurl: /login\n"
    'body: {user: "{{user.name}}", password: "{{user.password}}"}\n'
    "checks: {status: 200}\nextract: {token: {json: $.token}}\n",
    "list.yaml": "name: List items\nurl: /items\n"
    'headers: {Authorization: "Bearer {{token}}"}\nchecks: {status: 200}\n'
    "extract: {item_id: {json: '$.items[0].id'}}\n",
    "get.yaml": "name: Get item\nurl: /items/{{item_id}}\n"
    'headers: {Authorization: "Bearer {{token}}"}\nchecks: {status: 200}\n',
}


def write_collection(directory: Path, base_url: str, users: int) -> Path:
    root = directory / "flow-bench"
    root.mkdir()
    (root / "collection.yaml").write_text(COLLECTION.format(base_url=base_url))
    for name, text in FILES.items():
        (root / name).write_text(text)
    rows = "".join(f"user{i},secret{i}\n" for i in range(users))
    (root / "users.csv").write_text("name,password\n" + rows)
    return root


def measure(args: argparse.Namespace) -> None:
    ensure_tools("nginx")
    static_rps, flow_rps, static_us, flow_us, starved = [], [], [], [], []
    last = None
    cpus = {0} if args.pin else None
    with LocalNginx(workers=1, locations=LOCATIONS) as nginx, tempfile.TemporaryDirectory() as tmp:
        nginx.pin({1} if args.pin else None)
        root = write_collection(Path(tmp), nginx.http_url.rstrip("/"), args.users)
        for round_no in range(args.rounds):
            runs = {}
            for scenario in ("static", "flow"):
                runs[scenario] = run_headless(
                    str(root),
                    users=args.users,
                    duration_s=args.duration,
                    extra_args=("--scenario", scenario),
                    cpus=cpus,
                )
            static, flow = runs["static"], runs["flow"]
            for name, run in runs.items():
                if run.errors or not run.requests:
                    raise SystemExit(f"the {name} run had errors: {run.report.get('errors')}")
            logins = flow.report["per_request"]["Login"]["requests"]
            if logins != args.users:
                raise SystemExit(f"{logins} logins for {args.users} users")
            static_rps.append(static.rps)
            flow_rps.append(flow.rps)
            static_us.append(static.us_per_request("worker"))
            flow_us.append(flow.us_per_request("worker"))
            starved.append(max(static.starved(), flow.starved()))
            last = flow
            print(
                f"round {round_no + 1}: static {static.rps:,.0f} req/s, flow {flow.rps:,.0f} "
                f"req/s ({logins} logins), ratio {ratio(flow.rps, static.rps):.2f}",
                flush=True,
            )
    s, f = statistics.median(static_rps), statistics.median(flow_rps)
    su, fu = statistics.median(static_us), statistics.median(flow_us)
    paired = statistics.median(ratio(a, b) for a, b in zip(flow_rps, static_rps, strict=True))
    rows: list[list[object]] = [
        [f"req/s, {args.users} users, 1 worker", f, s, ratio(f, s), f">= {TARGET}",
         verdict(ratio(f, s) >= TARGET)],
        ["  median of the rounds' own ratios", "-", "-", paired, f">= {TARGET}",
         verdict(paired >= TARGET)],
        ["CPU us per request, worker", fu, su, ratio(fu, su), "-", "-"],
    ]  # fmt: skip
    print_table(
        f"3-step flow vs static GET (nginx 1 worker, JSON bodies, {args.duration:g} s x "
        f"{args.rounds})",
        ["metric", "flow", "static GET", "ratio", "target", "verdict"],
        rows,
    )
    print_noise_note(max(starved))
    assert last is not None
    print(f"command: {last.command} (COLLECTION: scenarios static and flow, see this script)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternate runs; medians shown")
    parser.add_argument("--users", type=int, default=100)
    add_common_arguments(parser)
    stop_on_sigterm()
    measure(parser.parse_args())


if __name__ == "__main__":
    main()
