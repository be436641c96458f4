"""Fixtures for engine tests: a ``RunPlan`` with one request per URL."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from engine.plan.model import LoadProfile, PreparedRequest, RunPlan, Stage


def plan_for(
    *urls: str | tuple[str, str, bytes],
    timeout_s: float = 5.0,
    http2: bool = False,
    client: str = "fast",
    insecure: bool = False,
    headers: tuple[tuple[str, str], ...] = (),
) -> RunPlan:
    """A RunPlan with one request per URL (a bare URL is a GET; or (method, url, body))."""
    requests = []
    for i, item in enumerate(urls):
        method, url, body = ("GET", item, b"") if isinstance(item, str) else item
        parts = urlsplit(url)
        scheme = parts.scheme
        assert scheme in ("http", "https")
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        requests.append(
            PreparedRequest(
                name=f"r{i}",
                method=method,
                url=url,
                scheme=scheme,
                host=parts.hostname or "",
                port=parts.port or (443 if scheme == "https" else 80),
                target=target,
                headers=headers,
                body=body,
                timeout_s=timeout_s,
                insecure=insecure,
            )
        )
    return RunPlan(
        collection_name="transport tests",
        scenario_name="default",
        base_url=requests[0].url,
        requests=tuple(requests),
        profile=LoadProfile(model="closed", stages=(Stage(1.0, 1.0),)),
        http2=http2,
        client=client,  # type: ignore[arg-type]
    )


@pytest.fixture
def make_plan() -> Callable[..., RunPlan]:
    """``make_plan(url, ..., timeout_s=, http2=, client=, insecure=)`` -> RunPlan."""
    return plan_for
