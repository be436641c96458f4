"""A flow as a worker runs it: each user's values, the order of its requests, what a response
does to them. Shared by the closed model (``flow_closed``) and the open one (``flow_open``).

``CompiledFlow`` is built once per worker from the plan: per request what to ask the
transport for (the body only when a check or an extraction reads it, the headers only when
an extraction or the cookie jar does), the dynamic values to draw before a send, and the
extractions. ``UserState`` is one user's variables, cookie jar and data row.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from engine.dynamic import DYNAMIC_VALUES
from engine.load.checks import Judge, needs_body
from engine.load.cookies import CookieJar
from engine.load.extract import compile_extractions
from engine.load.extract import needs_body as extract_needs_body
from engine.load.extract import needs_headers as extract_needs_headers
from engine.load.shapes import RequestPicker
from engine.plan.model import DataRows, FlowPlan, RunPlan
from engine.plan.template import COOKIES
from engine.results import ERR_CHECK, ERR_EXTRACT, ERR_HTTP_STATUS, Result
from engine.run.worker_protocol import share_of


def passed(status: int, body: bytes | None) -> str | None:
    """The judge the recorder gets for a flow's requests: the flow has judged them already."""
    return None


class RowSource:
    """Hands out this worker's data rows. ``unique``: each row to one user at a time (a user
    gives its row back when it leaves; an open-model arrival keeps it), from this worker's own
    block of rows so no two workers share one; ``cycle``: rows in turn; ``random``."""

    def __init__(self, data: DataRows, worker_id: int, n_workers: int, rng: random.Random):
        self.data = data
        self.rng = rng
        self.n = len(data.rows)
        self.worker_id = worker_id
        self.n_workers = n_workers
        self.taken = 0
        start = sum(int(share_of(self.n, w, n_workers, True)) for w in range(worker_id))
        size = int(share_of(self.n, worker_id, n_workers, True))
        self.free = list(range(start + size - 1, start - 1, -1))  # pop() takes the lowest

    def take(self) -> int | None:
        """A row index, or None when ``unique`` has none left."""
        mode = self.data.mode
        if mode == "unique":
            return self.free.pop() if self.free else None
        if mode == "random":
            return self.rng.randrange(self.n)
        k = self.taken
        self.taken = k + 1
        return (self.worker_id + k * self.n_workers) % self.n

    def give(self, row: int) -> None:
        if self.data.mode == "unique":
            self.free.append(row)
            self.free.sort(reverse=True)


class UserState:
    """One user's variables (by id), cookies, response headers (reused) and data row."""

    __slots__ = ("headers", "jar", "row", "setup_done", "values")

    def __init__(self, flow: CompiledFlow, row: int | None) -> None:
        self.values = list(flow.initial)
        self.jar = CookieJar() if flow.cookies else None
        self.headers: list[tuple[bytes, bytes]] = []
        self.row = row
        self.setup_done = not flow.setup
        data = flow.data
        if data is not None and row is not None:
            values = self.values
            for var, value in zip(data.columns, data.rows[row], strict=True):
                values[var] = value


class CompiledFlow:
    """The plan's flow, ready for one worker's users."""

    def __init__(
        self, plan: RunPlan, judges: Sequence[Judge | None], rng: random.Random, worker_id: int,
        n_workers: int,
    ) -> None:  # fmt: skip
        fp: FlowPlan | None = plan.flow_plan
        assert fp is not None
        requests = plan.requests
        self.initial = fp.initial
        self.setup = fp.setup
        self.cookies = fp.cookies
        self.data = fp.data
        self.rows = RowSource(fp.data, worker_id, n_workers, rng) if fp.data else None
        self.judges = tuple(judges)
        self.hosts = tuple(r.host for r in requests)
        self.extract = tuple(compile_extractions(e) for e in fp.extractions)
        self.want_body = tuple(
            needs_body(r.checks) or extract_needs_body(e)
            for r, e in zip(requests, fp.extractions, strict=True)
        )
        self.want_headers = tuple(fp.cookies or extract_needs_headers(e) for e in fp.extractions)
        self.generators: tuple[tuple[tuple[int, Callable[[], str]], ...], ...] = tuple(
            tuple((var, DYNAMIC_VALUES[name]) for var, name in r.template.generators)
            if r.template is not None
            else ()
            for r in requests
        )
        self.steps = fp.steps
        self.picker = RequestPicker([requests[i] for i in fp.steps], plan.flow, rng)

    def iteration(self, state: UserState) -> Sequence[int]:
        """The request indexes of the user's next iteration (its setup first, until done)."""
        picked = self.picker.iteration()
        steps = self.steps
        order = steps if len(picked) == len(steps) else tuple(steps[i] for i in picked)
        return order if state.setup_done else (*self.setup, *order)

    def before_send(self, state: UserState, index: int) -> list[tuple[bytes, bytes]] | None:
        """Draw the request's dynamic values and its cookies; the list for its response's
        headers (emptied), or None when nothing reads them."""
        values = state.values
        for var, generate in self.generators[index]:
            values[var] = generate()
        if state.jar is not None:
            values[COOKIES] = state.jar.header(self.hosts[index])
        if self.want_headers[index]:
            headers = state.headers
            headers.clear()
            return headers
        return None

    def outcome(self, state: UserState, index: int, result: Result) -> tuple[Result, bool]:
        """The result as it is to be recorded (classified: transport error, check, HTTP
        status, extraction), and whether the user's iteration goes on. A request that
        extracts ends the iteration when it fails: its values cannot be had."""
        status, err, _, b_in, b_out, conn_ns, tls_ns, ttfb_ns, body = result
        jar = state.jar
        if jar is not None and state.headers:
            jar.update(self.hosts[index], state.headers)
        extract = self.extract[index]
        if err:
            return result, extract is None
        judge = self.judges[index]
        failure = judge(status, body) if judge is not None else None
        if failure is None and judge is None and status >= 400:
            failure = f"HTTP {status}"
        if failure is not None:
            err = ERR_HTTP_STATUS if status >= 400 else ERR_CHECK
            return (status, err, failure, b_in, b_out, conn_ns, tls_ns, ttfb_ns, body), (
                extract is None
            )
        if extract is not None:
            missing = extract(body, state.headers, state.values)
            if missing is not None:
                failed = (status, ERR_EXTRACT, missing, b_in, b_out, conn_ns, tls_ns, ttfb_ns, None)
                return failed, False
        return result, True
