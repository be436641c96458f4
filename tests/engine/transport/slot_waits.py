"""A request that waits at a client's cap (connections or streams) past its timeout, run
under uvloop as the workers run: shared by the HTTP/1.1 and HTTP/2 transport tests."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from engine.plan.model import RunPlan
from engine.transport import make_client

Outcome = tuple[int, str] | str


def outcomes_past_the_slot_deadline(plan: RunPlan, rounds: int = 30) -> list[Outcome]:
    """``plan`` holds three requests: a quick one, one that holds the only slot for 10 s, and
    one sent ``rounds`` times while it waits for that slot with a 10.2 ms timeout (uvloop's
    timers can fire while ``loop.time()``, kept in whole ms, reads just short of the
    deadline). Returns (error code, message) per send, or "cancelled"."""
    import uvloop

    short = replace(plan.requests[2], timeout_s=0.0102)
    plan = replace(plan, requests=(*plan.requests[:2], short))

    async def main() -> list[Outcome]:
        client = make_client(plan, max_connections=1)  # one connection / one stream
        assert (await client.request(0, False))[0] == 200  # the slot is up, kept alive
        occupant = asyncio.ensure_future(client.request(1, False))  # busy for 10 s
        outcomes: list[Outcome] = []
        try:
            await asyncio.sleep(0)  # the occupant's first step takes the slot
            for i in range(rounds):
                await asyncio.sleep(0.0003 * i)  # vary where the deadline falls in a ms
                try:
                    _, err, message, *_ = await client.request(2, False)
                    outcomes.append((err, message))
                except asyncio.CancelledError:
                    outcomes.append("cancelled")
        finally:
            occupant.cancel()
            await client.aclose()
        return outcomes

    return uvloop.run(main())
