"""Smoke check: each request of one or more plans sent once, in order, with every check judged.

The quick "does the collection work at all" pass before a load run: status, time, size and
each check's outcome per request. A request passes when it got a response, every check
holds, (with no status check) its status is below 400, and its extractions found their
values: the rules a load run counts errors by. A flow runs as one user: its setup, then each
of its requests in order, each filled with the values taken from the responses before it.
Requests go one after another through the single-send client (httpx).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from engine.load.checks import compile_checks, run_checks
from engine.load.flow import CompiledFlow, UserState
from engine.plan.model import PreparedRequest, RunPlan
from engine.plan.template import COOKIES, fill
from engine.results import ERR_EXTRACT
from engine.transport.single import SingleResponse, send_single


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One check of one response: what it checks, and the failure message (None: it held)."""

    description: str
    failure: str | None

    @property
    def passed(self) -> bool:
        return self.failure is None


@dataclass(frozen=True, slots=True)
class SmokeResult:
    """One request's smoke check. ``extract_failure``: a value the flow could not take."""

    name: str
    method: str
    url: str
    response: SingleResponse
    checks: tuple[CheckOutcome, ...]
    extract_failure: str | None = None
    setup: bool = False
    scenario: str = ""  # the flow scenario it was sent as a user of ("": on its own)

    @property
    def label(self) -> str:
        """``Login (shop, setup)``: the request, and the flow it was sent in."""
        where = [part for part in (self.scenario, "setup" if self.setup else "") if part]
        return f"{self.name} ({', '.join(where)})" if where else self.name

    @property
    def status_failed(self) -> bool:
        """No status check, and a 4xx/5xx answer (a load run counts it as an error)."""
        if self.response.error_class is not None:
            return False
        has_status_check = any(c.description.startswith("status") for c in self.checks)
        return not has_status_check and self.response.status >= 400

    def findings(self) -> list[tuple[bool, str]]:
        """(held, what was judged) for the response: the transport error when nothing came
        back, else a 4xx/5xx without a status check, each check, and a value not extracted."""
        r = self.response
        if r.error_class is not None:
            return [(False, f"{r.error_class}: {r.error}")]
        found: list[tuple[bool, str]] = []
        if self.status_failed:
            found.append(
                (False, f"status {r.status} {r.reason}: no status check, and 4xx/5xx fail")
            )
        found += [(c.passed, c.description if c.passed else (c.failure or "")) for c in self.checks]
        if self.extract_failure:
            found.append((False, self.extract_failure))
        return found

    @property
    def passed(self) -> bool:
        return (
            self.response.error_class is None
            and not self.status_failed
            and all(c.passed for c in self.checks)
            and self.extract_failure is None
        )


def judge(req: PreparedRequest, response: SingleResponse) -> tuple[CheckOutcome, ...]:
    """Each of the request's checks on this response ("no response" when none came)."""
    if response.error_class is not None:
        return tuple(CheckOutcome(c.describe(), "no response") for c in req.checks)
    return tuple(
        CheckOutcome(c.describe(), run_checks((c,), response.status, response.body))
        for c in req.checks
    )


def smoke_order(plan: RunPlan) -> list[int]:
    """The request indexes a smoke check sends, in order: a flow's setup then its requests;
    otherwise every request of the plan."""
    fp = plan.flow_plan
    if fp is None:
        return list(range(len(plan.requests)))
    return [*fp.setup, *fp.steps]


def filled(req: PreparedRequest, values: Sequence[str]) -> PreparedRequest:
    """``req`` with its template's slots filled from one user's ``values``."""
    t = req.template
    if t is None:
        return req
    headers = [(name, fill(pieces, values).decode("latin-1")) for name, pieces in t.headers]
    if t.cookies and values[COOKIES]:
        headers.append(("Cookie", values[COOKIES]))
    origin = f"{req.scheme}://{req.url.split('://', 1)[1].split('/', 1)[0]}"
    target = fill(t.target, values).decode("latin-1")
    return replace(
        req,
        url=origin + target,
        target=target,
        headers=tuple(headers),
        body=fill(t.body, values),
        template=None,
    )


class SmokeUser:
    """The one user a smoke check sends as: a flow's values, cookies and data row."""

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan
        self.flow: CompiledFlow | None = None
        self.state: UserState | None = None
        if plan.flow_plan is not None:
            judges = [compile_checks(r.checks) for r in plan.requests]
            self.flow = CompiledFlow(plan, judges, random.Random(), 0, 1)
            row = self.flow.rows.take() if self.flow.rows is not None else None
            self.state = UserState(self.flow, row)

    async def send(self, index: int, http2: bool) -> SmokeResult:
        req = self.plan.requests[index]
        flow, state = self.flow, self.state
        headers_out = None
        if flow is not None and state is not None:
            headers_out = flow.before_send(state, index)
            req = filled(req, state.values)
        response = await send_single(req, http2=http2)
        extract_failure = None
        if flow is not None and state is not None and response.error_class is None:
            if headers_out is not None:
                headers_out.extend(
                    (n.encode("latin-1"), v.encode("latin-1")) for n, v in response.headers
                )
            result = (response.status, 0, "", response.size, 0, 0, 0, 0, response.body)
            outcome, _ = flow.outcome(state, index, result)
            if outcome[1] == ERR_EXTRACT:
                extract_failure = outcome[2]
        fp = self.plan.flow_plan
        setup = fp is not None and index in fp.setup
        return SmokeResult(
            self.plan.requests[index].name,
            req.method,
            req.url,
            response,
            judge(req, response),
            extract_failure,
            setup,
            self.plan.scenario_name if fp is not None else "",
        )


async def smoke_check(
    plans: Sequence[RunPlan],
    on_result: Callable[[SmokeResult], None] | None = None,
    *,
    http2: bool | None = None,
) -> list[SmokeResult]:
    """Send each request of each plan once, in order, a plan's flow as one user of it;
    ``on_result`` sees each result as it comes."""
    results: list[SmokeResult] = []
    for plan in plans:
        user = SmokeUser(plan)
        use_http2 = plan.http2 if http2 is None else http2
        for index in smoke_order(plan):
            result = await user.send(index, use_http2)
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results


def smoke_passed(results: Sequence[SmokeResult]) -> bool:
    return bool(results) and all(r.passed for r in results)
