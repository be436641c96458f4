"""Secrets stay out of everything ``deli-tui run`` saves or prints, as a user meets it.

A collection sends ``Authorization: Bearer {{token}}`` (token from an env file) and
``X-Api-Key: {{api_key}}`` (from the process environment), its base URL carries a password,
and its requests fail in ways whose messages would quote those values: a check looking for
the token in the body, a refused port with the key in the query, a malformed response.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.servers.faults import FaultServer, refused_port

TOKEN = "tok-8c1f55e2d9a04b7f"
API_KEY = "key-51b0c3e7aa924d60"
PASSWORD = "pw-0f6e8d2c4b1a3957"
SAFETY_S = 90.0


def write_secret_collection(root: Path, server: FaultServer) -> Path:
    """The collection and its env file; returns the env file."""
    root.mkdir(parents=True)
    (root / "collection.yaml").write_text(
        "name: Secrets\n"
        f"base_url: http://deli:{{{{password}}}}@{server.host}:{server.port}\n"
        "headers:\n"
        "  Authorization: Bearer {{token}}\n"
        "  X-Api-Key: '{{api_key}}'\n"
        "scenarios:\n"
        "  leak:\n"
        "    users: 1\n"
        "    iterations: 3\n"
        "    duration: 30s\n"
        "    timeout: 3s\n"
        "    thresholds:\n"
        "      - error_rate < 1%\n"
    )
    (root / "check.yaml").write_text(
        "name: Token echo\nurl: /ok\nchecks:\n  body_contains: 'token={{token}}'\n"
    )
    (root / "refused.yaml").write_text(
        f"name: Refused\nurl: http://127.0.0.1:{refused_port()}/v1?api_key={{{{api_key}}}}\n"
    )
    (root / "badstatus.yaml").write_text("name: Bad status\nurl: /badstatus?sig={{token}}\n")
    env_file = root.parent / "secrets.env"
    env_file.write_text(f"token={TOKEN}\npassword={PASSWORD}\n")
    return env_file


def test_secrets_appear_in_no_report_and_no_output(faults: FaultServer, tmp_path: Path) -> None:
    env_file = write_secret_collection(tmp_path / "c", faults)
    out = {name: tmp_path / f"run.{name}" for name in ("json", "csv", "xml", "html")}
    args = [str(tmp_path / "c"), "--env-file", str(env_file), "--json", str(out["json"])]
    args += ["--csv", str(out["csv"]), "--junit", str(out["xml"]), "--html", str(out["html"])]
    done = subprocess.run(
        [sys.executable, "-m", "deli_tui", "run", *args],
        capture_output=True,
        text=True,
        timeout=SAFETY_S,
        env={**os.environ, "api_key": API_KEY},
    )
    assert done.returncode == 1, done.stderr  # the error threshold fails
    assert "Traceback" not in done.stderr
    texts = {name: path.read_text(encoding="utf-8") for name, path in out.items()}
    texts |= {"stdout": done.stdout, "stderr": done.stderr}
    for where, text in texts.items():
        for secret in (TOKEN, API_KEY, PASSWORD):
            assert secret not in text, f"{secret} leaked into {where}"
    # the failures are still there to read, with the secrets replaced
    csv_text = texts["csv"]
    assert csv_text.count("\n") == 1 + 9  # header + 3 iterations x 3 requests
    assert "body does not contain 'token=[redacted]'" in csv_text
    assert "connect" in csv_text and "protocol" in csv_text
    assert "deli:[redacted]@127.0.0.1" in texts["json"]
    assert "Token echo" in texts["html"] and "token=[redacted]" in texts["html"]


def test_the_plan_names_every_secret_value(faults: FaultServer, tmp_path: Path) -> None:
    from engine.collection.loader import load_collection
    from engine.plan.build import build_plan

    env_file = write_secret_collection(tmp_path / "c", faults)
    plan = build_plan(
        load_collection(tmp_path / "c"), env_file=env_file, environ={"api_key": API_KEY}
    )
    assert {TOKEN, API_KEY, PASSWORD, f"Bearer {TOKEN}"} <= set(plan.redact_values)
    assert PASSWORD not in plan.base_url and plan.base_url.endswith(f":{faults.port}")
    headers = dict(plan.requests[0].headers)
    assert headers["Authorization"] == f"Bearer {TOKEN}"  # sent as is, only hidden from view


def test_a_secret_in_another_letter_case_is_still_hidden_and_a_port_is_no_secret(
    faults: FaultServer, tmp_path: Path
) -> None:
    """``tenant`` is a secret (it is also an API key header) that a failing request's host
    name carries lowercased; ``port`` (from the environment too) only builds the address."""
    tenant = "AcmeCorp-7f3E9a"
    root = tmp_path / "c"
    root.mkdir()
    (root / "collection.yaml").write_text(
        "name: Cases\n"
        f"base_url: http://{faults.host}:{{{{port}}}}\n"
        "headers:\n  X-Tenant-Key: '{{tenant}}'\n"
        "scenarios:\n  once:\n    users: 1\n    iterations: 2\n    duration: 30s\n"
        "    thresholds: []\n"
    )
    (root / "ok.yaml").write_text("name: ok\nurl: /ok\n")
    (root / "dns.yaml").write_text("name: dns\nurl: http://{{tenant}}.invalid/\n")
    out = {name: tmp_path / f"run.{name}" for name in ("json", "csv", "html")}
    args = [str(root), "--json", str(out["json"]), "--csv", str(out["csv"])]
    args += ["--html", str(out["html"])]
    done = subprocess.run(
        [sys.executable, "-m", "deli_tui", "run", *args],
        capture_output=True,
        text=True,
        timeout=SAFETY_S,
        env={**os.environ, "tenant": tenant, "port": str(faults.port)},
    )
    assert done.returncode == 0, done.stderr
    texts = {name: path.read_text(encoding="utf-8") for name, path in out.items()}
    texts |= {"stdout": done.stdout, "stderr": done.stderr}
    for where, text in texts.items():
        assert tenant.lower() not in text.lower(), f"the tenant leaked into {where}"
    assert "cannot resolve host '[redacted].invalid'" in texts["csv"]
    # the address is shown as it is: the port is where requests go, not a secret
    assert f'"target": "http://{faults.host}:{faults.port}"' in texts["json"]
    assert "[redacted]" not in texts["stdout"].splitlines()[0]
