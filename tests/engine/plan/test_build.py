"""Planning: variables resolved once, URLs and bodies prepared, profiles normalised to stages."""

from __future__ import annotations

import pickle
from pathlib import Path

import httpx
import pytest

from engine.collection.loader import load_collection
from engine.collection.model import ScenarioDef
from engine.collection.variables import build_scope, read_env_file
from engine.errors import CollectionError
from engine.jsonpath import JsonNull
from engine.load.checks import run_checks
from engine.plan.build import (
    PlanOverrides,
    build_plan,
    plan_for_url,
    profile_from_scenario,
)
from engine.plan.model import Check, Stage
from tests.engine.collection_files import SAMPLE, write_collection

VARS_COLLECTION = """\
name: Vars
base_url: http://127.0.0.1:{{port}}/api
env_file: .env.local
variables:
  port: "8000"
  a: from-collection
  b: from-collection
  c: from-collection
headers:
  X-Token: "{{c}}"
"""
VARS_REQUEST = """\
name: R
url: /items/{{a}}
params:
  b: "{{b}}"
"""


def vars_root(tmp_path: Path) -> Path:
    return write_collection(
        tmp_path,
        {
            "collection.yaml": VARS_COLLECTION,
            "r.yaml": VARS_REQUEST,
            ".env.local": "# comment\nb=from-env-file\nexport c='from-env-file'\n",
        },
    )


def test_variables_come_from_three_sources_later_wins(tmp_path: Path) -> None:
    c = load_collection(vars_root(tmp_path))
    plan = build_plan(c, environ={"c": "from-environment", "unused": "x"})
    (req,) = plan.requests
    assert req.url == "http://127.0.0.1:8000/api/items/from-collection?b=from-env-file"
    assert req.target == "/api/items/from-collection?b=from-env-file"
    assert dict(req.headers)["X-Token"] == "from-environment"


def test_cli_env_file_replaces_the_collection_one(tmp_path: Path) -> None:
    root = vars_root(tmp_path)
    other = tmp_path / "other.env"
    other.write_text('a="quoted value"\nport=9001  # trailing comment\n')
    plan = build_plan(load_collection(root), env_file=other, environ={})
    (req,) = plan.requests
    assert req.port == 9001
    assert req.target == "/api/items/quoted%20value?b=from-collection"
    assert req.url == "http://127.0.0.1:9001/api/items/quoted%20value?b=from-collection"


def test_environment_is_read_only_for_referenced_names() -> None:
    scope = build_scope({"x": "{{HOST}}"}, {}, {"HOST": "h", "AWS_SECRET": "s"}, {"y"})
    assert scope.values == {"x": "{{HOST}}", "HOST": "h"}
    assert scope.origins["HOST"] == "environment"
    assert scope.secret_values() == ("h",)


def test_unknown_variable_points_at_the_reference(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "r.yaml": "name: R\nurl: /\nheaders:\n  Authorization: Bearer {{api_tokn}}\n",
            "collection.yaml": (
                "name: x\nbase_url: http://127.0.0.1:1\nvariables:\n  api_token: t\n"
                "headers:\n  X-Env: '{{region}}'\n"
            ),
        },
    )
    with pytest.raises(CollectionError) as info:
        build_plan(load_collection(root), environ={})
    problems = {(p.path, p.line): p for p in info.value.problems}
    req = problems[(root / "r.yaml", 4)]
    assert req.message == "unknown variable {{api_tokn}}"
    assert "did you mean 'api_token'?" in req.hint
    assert "env file" in req.hint and "environment variable" in req.hint
    assert problems[(root / "collection.yaml", 6)].message == "unknown variable {{region}}"


def test_env_file_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.env"
    bad.write_text("OK=1\nthis is not an assignment\n")
    with pytest.raises(CollectionError) as info:
        read_env_file(bad)
    (p,) = info.value.problems
    assert (p.path, p.line, p.message) == (bad, 2, "expected KEY=VALUE")
    root = vars_root(tmp_path / "c")
    with pytest.raises(CollectionError, match="cannot read the env file"):
        build_plan(load_collection(root), env_file=tmp_path / "missing.env", environ={})


def test_requests_are_prepared_for_the_wire(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": (
                "name: x\nbase_url: https://example.test/v1/\ntimeout: 3s\n"
                "headers:\n  accept: text/plain\n  X-Default: d\n"
                "scenarios:\n  s:\n    timeout: 2s\n    insecure: true\n"
            ),
            "a.yaml": (
                "name: A\nmethod: POST\nurl: things?x=1\nparams: {q: a b&c}\n"
                "headers: {Accept: application/json}\nbody: {k: [1, true]}\ntimeout: 1s\n"
                "checks:\n  status: 201\n  body_contains: k\n"
                "  json:\n    - {path: $.k}\n    - {path: $.gone, equals: null}\n"
            ),
            "b.yaml": (
                "name: B\nmethod: PUT\nurl: http://[::1]:8443/raw\n"
                "headers: {Content-Type: text/csv}\nbody: 'a,b'\n"
            ),
            "c.yaml": (
                "name: C\nurl: http://127.0.0.1/c\nbody: {j: 1}\nheaders: {content-type: x/y}\n"
            ),
        },
    )
    plan = build_plan(load_collection(root), environ={})
    a, b, c = plan.requests
    assert (a.scheme, a.host, a.port) == ("https", "example.test", 443)
    assert a.url == "https://example.test/v1/things?x=1&q=a+b%26c"
    assert a.target == "/v1/things?x=1&q=a+b%26c"
    assert a.headers == (
        ("X-Default", "d"),
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
    )
    assert a.body == b'{"k":[1,true]}'
    assert (a.timeout_s, b.timeout_s) == (1.0, 2.0)
    assert a.insecure and b.insecure
    assert a.checks == (
        Check("status", (201,)),
        Check("body_contains", "k"),
        Check("json_path", None, "$.k"),
        Check("json_path", JsonNull.NULL, "$.gone"),
    )
    assert (b.scheme, b.host, b.port, b.target, b.body) == ("http", "::1", 8443, "/raw", b"a,b")
    assert dict(b.headers)["Content-Type"] == "text/csv"
    assert dict(c.headers)["content-type"] == "x/y"
    assert "Content-Type" not in dict(c.headers)
    pickle.loads(pickle.dumps(plan))


def test_credentials_in_the_url_become_a_basic_header() -> None:
    (req,) = plan_for_url("http://ann:p%40ss@127.0.0.1:8089/private").requests
    assert req.url == "http://127.0.0.1:8089/private"
    assert dict(req.headers)["Authorization"] == "Basic YW5uOnBAc3M="


def test_collection_timeout_applies_without_request_or_scenario_timeouts(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {"collection.yaml": "name: x\nbase_url: http://h\ntimeout: 4s\n", "a.yaml": "url: /\n"},
    )
    (req,) = build_plan(load_collection(root), environ={}).requests
    assert req.timeout_s == 4.0


def test_non_http_urls_after_substitution_are_rejected(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": "name: x\nbase_url: '{{base}}'\nvariables: {base: 'ftp://files'}\n",
            "a.yaml": "name: A\nurl: /x\n",
        },
    )
    with pytest.raises(CollectionError, match="only http:// and https://"):
        build_plan(load_collection(root), environ={})


def test_scenario_choice(tmp_path: Path) -> None:
    c = load_collection(SAMPLE)
    assert build_plan(c, environ={}).scenario_name == "smoke"
    plan = build_plan(c, "open-rate", environ={})
    assert [r.name for r in plan.requests] == ["Home", "Get JSON"]
    assert plan.thresholds == ("p99 < 200ms", "skipped == 0")
    with pytest.raises(CollectionError) as info:
        build_plan(c, "smokey", environ={})
    assert info.value.problems[0].hint == "did you mean 'smoke'?"
    root = write_collection(
        tmp_path, {"collection.yaml": "name: bare\nbase_url: http://h\n", "a.yaml": "url: /\n"}
    )
    default = build_plan(load_collection(root), environ={})
    assert default.scenario_name == "default"
    assert default.profile.model == "closed"
    assert default.profile.stages == (Stage(10.0, 10.0, "constant"),)


def test_every_demo_scenario_plans_and_pickles() -> None:
    c = load_collection(SAMPLE)
    for name in c.scenarios:
        plan = build_plan(c, name, environ={})
        assert plan.base_url == "http://127.0.0.1:8089"
        assert plan.requests
        pickle.loads(pickle.dumps(plan))


def test_overrides(tmp_path: Path) -> None:
    c = load_collection(SAMPLE)
    plan = build_plan(c, "smoke", PlanOverrides(rate=50, duration_s=5), environ={})
    assert plan.profile.model == "open"
    assert plan.profile.stages[-1] == Stage(5.0, 50.0, "hold")
    plan = build_plan(
        c,
        "stages",
        PlanOverrides(users=3, duration_s=2, workers=2, http2=True, client="httpx", max_results=10),
        environ={},
    )
    assert plan.profile.stages == (Stage(2.0, 3.0, "constant"),)
    assert (plan.workers, plan.http2, plan.client, plan.max_results) == (2, True, "httpx", 10)
    plan = build_plan(c, "open-rate", PlanOverrides(users=4), environ={})
    assert plan.profile.model == "closed"
    plan = build_plan(c, "smoke", PlanOverrides(insecure=True, ramp_up_s=0), environ={})
    assert all(r.insecure for r in plan.requests)
    assert plan.profile.stages == (Stage(20.0, 10.0, "constant"),)
    with pytest.raises(CollectionError, match="open model needs a rate"):
        build_plan(c, "smoke", PlanOverrides(model="open"), environ={})


def test_redacted_header_names_include_sensitive_request_headers(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {"a.yaml": "name: A\nurl: /\nheaders: {X-Api-Key: k, Accept: a}\n"},
    )
    plan = build_plan(load_collection(root), environ={})
    assert plan.redact_headers[:4] == (
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    )
    assert "x-api-key" in plan.redact_headers
    assert "accept" not in plan.redact_headers


@pytest.mark.parametrize(
    ("scenario", "start", "stages"),
    [
        (ScenarioDef("c", users=10, duration_s=20), 10.0, [(20, 10, "constant")]),
        (
            ScenarioDef("c", users=10, duration_s=20, ramp_up_s=2),
            0.0,
            [(2, 10, "ramp-up"), (20, 10, "hold")],
        ),
        (
            ScenarioDef("r", profile="ramp", users=50, duration_s=30, ramp_up_s=30),
            0.0,
            [(30, 50, "ramp-up"), (30, 50, "hold")],
        ),
        (ScenarioDef("r", profile="ramp", users=50, duration_s=30), 0.0, [(30, 50, "ramp-up")]),
        (
            ScenarioDef(
                "s", profile="spike", users=10, spike_to=80, spike_duration_s=10, duration_s=40
            ),
            10.0,
            [
                (14, 10, "before spike"),
                (1, 80, "spike"),
                (10, 80, "spike"),
                (1, 10, "after spike"),
                (14, 10, "after spike"),
            ],
        ),
        (
            ScenarioDef("st", profile="stages", stages=[(10, 20), (5, 0)]),
            0.0,
            [(10, 20, "stage 1"), (5, 0, "stage 2")],
        ),
        (
            ScenarioDef("o", model="open", rate=200, duration_s=20),
            200.0,
            [(20, 200, "constant")],
        ),
    ],
)
def test_profiles_normalise_to_stages(
    scenario: ScenarioDef, start: float, stages: list[tuple[float, float, str]]
) -> None:
    profile = profile_from_scenario(scenario)
    assert profile.start_target == start
    assert [(s.duration_s, s.target, s.label) for s in profile.stages] == stages


def test_profile_carries_think_time_and_limits() -> None:
    s = ScenarioDef(
        "t", think_time="100ms..300ms", iterations=5, max_in_flight=7, graceful_stop_s=2
    )
    profile = profile_from_scenario(s)
    assert profile.think_time_s == (0.1, 0.3)
    assert (profile.iterations, profile.max_in_flight, profile.graceful_stop_s) == (5, 7, 2.0)
    assert profile.duration_s == 30.0


def test_plan_for_url() -> None:
    plan = plan_for_url("http://127.0.0.1:8089/json?x=1")
    (req,) = plan.requests
    assert (req.method, req.host, req.port, req.target) == ("GET", "127.0.0.1", 8089, "/json?x=1")
    assert plan.profile.stages == (Stage(10.0, 10.0, "constant"),)
    assert plan.base_url == "http://127.0.0.1:8089"
    fast = plan_for_url("https://localhost/", PlanOverrides(rate=100, duration_s=3))
    assert fast.requests[0].port == 443
    assert fast.profile.model == "open"
    assert fast.profile.stages == (Stage(3.0, 100.0, "constant"),)
    for bad in ("ftp://127.0.0.1/", "127.0.0.1:8089", "http://"):
        with pytest.raises(CollectionError, match="not an http"):
            plan_for_url(bad)


def test_demo_plan_passes_its_checks_against_the_demo_server(demo_server) -> None:  # type: ignore[no-untyped-def]
    plan = build_plan(load_collection(SAMPLE), "smoke", environ={"port": str(demo_server.port)})
    with httpx.Client(timeout=10) as client:
        for req in plan.requests:
            response = client.request(
                req.method, req.url, headers=list(req.headers), content=req.body or None
            )
            assert run_checks(req.checks, response.status_code, response.content) is None, req.name
