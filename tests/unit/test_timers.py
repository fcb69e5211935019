"""Durable timers with an injected clock: reminders, escalation and timeout, no sockets."""

from __future__ import annotations

import email

import pytest

from hl_email.config import load_config
from hl_email.gateway import Gateway
from hl_email.models import FunctionCall, FunctionCallSpec


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def make_gateway(tmp_path):
    def make(clock, **route):
        config = load_config(
            None,
            agent={"address": "agent@example.test"},
            imap={"enabled": False},
            store={"url": f"sqlite:///{tmp_path / 'hl.db'}"},
            security={"secret": "unit-secret-for-timers-0123456789ab"},
            routes=[{"name": "r", "fn": "*", "to": ["alice@corp.test"], **route}],
        )
        return Gateway(config, clock=clock)

    return make


async def purposes(gateway, request_id):
    return [o.purpose for o in await gateway.store.outbox_for_request(request_id)]


async def test_reminder_escalation_timeout_in_order(make_gateway):
    clock = Clock()
    gateway = make_gateway(
        clock,
        reminders=["1h"],
        escalations=[{"after": "4h", "add": ["lead@corp.test"]}],
        timeout="1d",
    )
    await gateway.start(inbound=False, outbox=False, timers=False)
    try:
        call = FunctionCall(run_id="r", call_id="c1", spec=FunctionCallSpec(fn="deploy", kwargs={}))
        await gateway.create_function_call(call)
        row = await gateway.store.get_request(call_id="c1")
        assert await gateway.run_timers_once() == 0
        clock.now += 3600
        assert await gateway.run_timers_once() == 1
        assert await purposes(gateway, row.id) == ["ask", "reminder"]
        reminder = email.message_from_bytes(
            (await gateway.store.outbox_for_request(row.id))[1].message
        )
        assert reminder["Subject"].startswith("Re: ")
        clock.now += 3 * 3600
        await gateway.run_timers_once()
        assert (await purposes(gateway, row.id))[-2:] == ["escalation", "escalation"]
        recipients = await gateway.store.get_recipients(row.id)
        assert [r.address for r in recipients] == ["alice@corp.test", "lead@corp.test"]
        clock.now += 20 * 3600
        await gateway.run_timers_once()
        status = (await gateway.get_function_call("c1")).status
        assert status.approved is False and "1 day" in status.comment
        # Nothing runs twice.
        clock.now += 10 * 86400
        assert await gateway.run_timers_once() == 0
    finally:
        await gateway.stop()


async def test_timers_of_a_decided_request_do_nothing(make_gateway):
    clock = Clock()
    gateway = make_gateway(clock, reminders=["1h"], timeout="2h")
    await gateway.start(inbound=False, outbox=False, timers=False)
    try:
        call = FunctionCall(run_id="r", call_id="c2", spec=FunctionCallSpec(fn="deploy", kwargs={}))
        await gateway.create_function_call(call)
        from hl_email.models import FunctionCallStatus

        await gateway.respond_to_function_call("c2", FunctionCallStatus(approved=True))
        clock.now += 3 * 3600
        assert await gateway.run_timers_once() == 2
        row = await gateway.store.get_request(call_id="c2")
        assert await purposes(gateway, row.id) == ["ask"]
        assert (await gateway.get_function_call("c2")).status.approved is True
    finally:
        await gateway.stop()


async def test_reminders_wait_for_working_hours_in_the_routes_time_zone(make_gateway):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    clock = Clock()
    # Friday 2026-01-09, 17:30 in Berlin: "remind after 1h" would be 18:30, after hours.
    clock.now = datetime(2026, 1, 9, 17, 30, tzinfo=berlin).timestamp()
    gateway = make_gateway(
        clock, reminders=["1h"], working_hours="mon-fri 09:00-18:00", tz="Europe/Berlin"
    )
    await gateway.start(inbound=False, outbox=False, timers=False)
    try:
        call = FunctionCall(run_id="r", call_id="wh", spec=FunctionCallSpec(fn="deploy", kwargs={}))
        await gateway.create_function_call(call)
        row = await gateway.store.get_request(call_id="wh")
        monday_nine = datetime(2026, 1, 12, 9, 0, tzinfo=berlin).timestamp()
        assert await gateway.store.next_timer_due() == monday_nine
        clock.now = datetime(2026, 1, 10, 3, 0, tzinfo=berlin).timestamp()  # Saturday 3 am
        assert await gateway.run_timers_once() == 0
        clock.now = monday_nine
        assert await gateway.run_timers_once() == 1
        assert await purposes(gateway, row.id) == ["ask", "reminder"]
    finally:
        await gateway.stop()


async def test_a_reminder_due_outside_hours_is_moved_not_sent(make_gateway):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tokyo = ZoneInfo("Asia/Tokyo")
    clock = Clock()
    clock.now = datetime(2026, 3, 2, 10, 0, tzinfo=tokyo).timestamp()  # Monday 10:00
    gateway = make_gateway(clock, reminders=["1h"], working_hours="09:00-17:00", tz="Asia/Tokyo")
    await gateway.start(inbound=False, outbox=False, timers=False)
    try:
        call = FunctionCall(run_id="r", call_id="w2", spec=FunctionCallSpec(fn="deploy", kwargs={}))
        await gateway.create_function_call(call)
        row = await gateway.store.get_request(call_id="w2")
        # The gateway was down at 11:00 and comes back at 23:00: the reminder waits for 09:00.
        clock.now = datetime(2026, 3, 2, 23, 0, tzinfo=tokyo).timestamp()
        assert await gateway.run_timers_once() == 1
        assert await purposes(gateway, row.id) == ["ask"]
        next_nine = datetime(2026, 3, 3, 9, 0, tzinfo=tokyo).timestamp()
        assert await gateway.store.next_timer_due() == next_nine
        clock.now = next_nine
        assert await gateway.run_timers_once() == 1
        assert await purposes(gateway, row.id) == ["ask", "reminder"]
    finally:
        await gateway.stop()


def test_timer_lease_comes_from_store_config(tmp_path):
    config = load_config(
        None,
        agent={"address": "agent@example.test"},
        imap={"enabled": False},
        store={"url": f"sqlite:///{tmp_path / 'hl.db'}", "timer_lease": "5m"},
        security={"secret": "unit-secret-for-timers-0123456789ab"},
    )
    assert Gateway(config).timers.lease == 300.0


async def test_timers_and_the_clock_need_no_inbound_side(make_gateway):
    """Reminders and timeouts compose their notes on the outbound side: a gateway that has
    received no mail (its receiver not built yet) still reminds and fails closed on time, and
    the services read the gateway's clock at call time."""
    clock = Clock()
    gateway = make_gateway(clock, reminders=["1h"], timeout="2h")
    await gateway.start(inbound=False, outbox=False, timers=False)
    try:
        call = FunctionCall(run_id="r", call_id="c9", spec=FunctionCallSpec(fn="deploy", kwargs={}))
        await gateway.create_function_call(call)
        row = await gateway.store.get_request(call_id="c9")
        gateway.clock = later = Clock()  # a clock swapped after start is the one used
        later.now = clock.now + 3600
        assert await gateway.run_timers_once() == 1
        later.now += 3600
        assert await gateway.run_timers_once() == 1
        assert await purposes(gateway, row.id) == ["ask", "reminder", "note"]
        status = (await gateway.get_function_call("c9")).status
        assert status.approved is False and "2 hours" in status.comment  # fails closed
        assert gateway._inbound is None
    finally:
        await gateway.stop()
