"""Timers against a decision applied meanwhile by another gateway on the same store: a timer's
effects commit only while the request is still at the version the timer read."""

from __future__ import annotations

import pytest
from test_timers import Clock, make_gateway, purposes  # noqa: F401

from hl_email.models import FunctionCall, FunctionCallSpec
from hl_email.store import RequestUpdate


async def _decided_meanwhile(gateway, request_id: str) -> None:
    """What another gateway does between this one's reads and its commit: apply an approval."""
    [alice] = await gateway.store.get_recipients(request_id)
    alice.state = "answered"
    assert await gateway.store.commit(
        request=RequestUpdate(
            request_id, state="done", status={"approved": True, "comment": "ok"}, resolved_at=1.0
        ),
        recipients=[alice],
    )


@pytest.mark.parametrize(
    ("route", "after"),
    [
        ({"reminders": ["1h"]}, 3600),
        ({"escalations": [{"after": "1h", "add": ["lead@corp.test"]}]}, 3600),
        ({"timeout": "1h"}, 3600),
    ],
    ids=["reminder", "escalation", "timeout"],
)
async def test_a_timer_never_overwrites_a_decision_applied_meanwhile(
    make_gateway,  # noqa: F811
    route,
    after,
):
    clock = Clock()
    gateway = make_gateway(clock, **route)
    await gateway.start(inbound=False, outbox=False, timers=False)
    try:
        call = FunctionCall(run_id="r", call_id="c1", spec=FunctionCallSpec(fn="deploy", kwargs={}))
        await gateway.create_function_call(call)
        row = await gateway.store.get_request(call_id="c1")
        reads = gateway.store.get_recipients
        raced = False

        async def get_recipients(request_id: str):
            nonlocal raced
            result = await reads(request_id)
            if not raced:  # the timer has read the request and its recipients: now the race
                raced = True
                await _decided_meanwhile(gateway, request_id)
            return result

        gateway.store.get_recipients = get_recipients  # type: ignore[method-assign]
        clock.now += after
        await gateway.run_timers_once()
        assert raced
        gateway.store.get_recipients = reads  # type: ignore[method-assign]

        final = await gateway.store.get_request(id=row.id)
        assert final.state == "done" and final.status == {"approved": True, "comment": "ok"}
        recipients = await gateway.store.get_recipients(row.id)
        assert [(r.address, r.state) for r in recipients] == [("alice@corp.test", "answered")]
        assert await purposes(gateway, row.id) == ["ask"]  # no reminder/escalation/note after
        # The timer is finished, not left to fire again.
        clock.now += 10 * 86400
        assert await gateway.run_timers_once() == 0
    finally:
        await gateway.stop()
