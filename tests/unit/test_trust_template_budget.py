"""Channel `template` budget (issue 10, item 3): time, memory and output are bounded, so a
template from an API caller cannot stall or exhaust the gateway. No timing thresholds: the
budget's own clock is faked where time matters."""

from __future__ import annotations

import itertools

import jinja2
import pytest

from hl_email.config import load_config
from hl_email.errors import RequestInvalidError
from hl_email.gateway import Gateway
from hl_email.models import ContactChannel, EmailContactChannel, FunctionCall, FunctionCallSpec
from hl_email.outbound.template_budget import (
    BudgetedSandbox,
    TemplateBudget,
    TemplateBudgetError,
    render_within_budget,
)

SECRET = "unit-test-secret-0123456789-abcdefgh"
DEFAULT = TemplateBudget()


def _render(source: str, budget: TemplateBudget = DEFAULT, **kw) -> str:
    env = BudgetedSandbox(autoescape=True)
    return render_within_budget(env.from_string(source), {"name": "Alice"}, budget, **kw)


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x' * 10**9 }}",
        "{{ [1] * 10**9 }}",
        "{{ 10 ** 10000000 }}",
        "{{ 'x'|center(10**9) }}",
        "{{ 'x'.ljust(10**9) }}",
        "{{ '%999999999s' % 'x' }}",
        "{{ 'x'|indent(10**9, true) }}",
    ],
)
def test_huge_allocations_are_refused_up_front(source):
    with pytest.raises(jinja2.TemplateError):
        _render(source)


def test_output_over_budget_is_refused():
    source = "{% for i in range(100000) %}{{ 'abcdefghij' * 100 }}{% endfor %}"
    with pytest.raises(TemplateBudgetError, match="output over"):
        _render(source)


def test_a_long_running_template_is_stopped_by_its_clock():
    ticks = itertools.count()  # each look at the clock is one "second" later
    source = "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}done"
    with pytest.raises(TemplateBudgetError, match="took longer"):
        _render(source, TemplateBudget(seconds=50), clock=lambda: float(next(ticks)))


def test_memory_doubling_is_stopped():
    source = (
        "{% set ns = namespace(s='x' * 100000) %}"
        "{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}"
    )
    with pytest.raises(TemplateBudgetError, match="used more than"):
        _render(source, TemplateBudget(max_memory_bytes=64 * 1024 * 1024, seconds=60))


def test_ordinary_templates_render():
    assert _render("Hello {{ name }} {{ 'ab' * 3 }} {{ 2 ** 10 }}") == "Hello Alice ababab 1024"


async def _no_send(mail_from: str, rcpt_to: list[str], data: bytes) -> None:
    return None


async def test_an_over_budget_channel_template_is_a_clear_request_error(tmp_path):
    config = load_config(
        None,
        imap={"enabled": False},
        store={"url": f"sqlite:///{tmp_path / 'x.db'}"},
        security={"secret": SECRET},
    )
    gateway = Gateway(config, send=_no_send)
    await gateway.start(inbound=False, outbox=False, timers=False)
    try:
        channel = ContactChannel(
            email=EmailContactChannel(address="alice@corp.test", template="{{ 'x' * 10**10 }}")
        )
        spec = FunctionCallSpec(fn="refund", kwargs={}, channel=channel)
        with pytest.raises(RequestInvalidError, match="channel template"):
            await gateway.create_function_call(FunctionCall(run_id="r", call_id="t1", spec=spec))
        assert await gateway.store.get_request(call_id="t1") is None
    finally:
        await gateway.stop()
