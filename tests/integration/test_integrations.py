"""Framework adapters (LangChain, LangGraph, OpenAI Agents SDK) with the real packages, and the
runnable examples, answered by a human's email replies on the real Dovecot + SMTP stack."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from hl_email_sdk import (
    AsyncHumanLayer,
    ContactChannel,
    EmailContactChannel,
    HumanLayerTimeoutError,
)

from hl_email.api import API_PREFIX, ApiServer, create_app
from hl_email.gateway import Gateway

ALICE = "alice@corp.test"
KEY = "integrations-key-1"
ROOT = Path(__file__).resolve().parents[2]
CHANNEL = ContactChannel(email=EmailContactChannel(address=ALICE))


def containing(needle: str):
    def match(msg) -> bool:
        part = msg.get_body(preferencelist=("plain", "html"))
        return part is not None and needle in part.get_content()

    return match


@pytest.fixture
async def served(gateway_config):
    cfg = gateway_config(api={"host": "127.0.0.1", "port": 0, "api_keys": [KEY]})
    gateway = Gateway(cfg)
    await gateway.start()
    server = ApiServer(gateway, cfg, app=create_app(gateway, cfg))
    await server.start()
    try:
        yield server.base_url + API_PREFIX
    finally:
        await server.stop()
        await gateway.stop()


async def run_example(name: str, base: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "HUMANLAYER_API_BASE": base,
        "HUMANLAYER_API_KEY": KEY,
        "APPROVER": ALICE,
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT), str(ROOT / "sdk"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "examples" / name),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(proc: asyncio.subprocess.Process) -> str:
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    return out.decode()


# -- LangChain ---------------------------------------------------------------------------------


async def test_langchain_example_and_denied_tool(served, mail_client):
    pytest.importorskip("langchain_core")
    from hl_email_sdk.integrations.langchain import human_as_tool, require_approval
    from langchain_core.tools import tool

    alice = mail_client(ALICE)
    proc = await run_example("langchain_agent.py", served)
    ask = await alice.wait_for_message(containing("A-17"), timeout=60)
    assert "issue_refund" in ask.text()
    await alice.reply(ask, "Approved, go ahead.")
    out = await finish(proc)
    assert "tool issue_refund: refunded 120 on A-17" in out and "agent: All done." in out

    @tool
    def wipe_disk(device: str) -> str:
        """Erase a disk."""
        raise AssertionError("must not run when denied")

    async with AsyncHumanLayer(api_base_url=served, api_key=KEY) as hl:
        gated = require_approval(hl, wipe_disk, CHANNEL)
        assert gated.name == "wipe_disk" and set(gated.args) == {"device"}
        task = asyncio.create_task(gated.ainvoke({"device": "/dev/sda"}))
        ask = await alice.wait_for_message(containing("/dev/sda"), timeout=60)
        await alice.reply(ask, "REJECT: that is the production disk")
        assert await asyncio.wait_for(task, 60) == (
            "User denied wipe_disk with message: that is the production disk"
        )
        ask_tool = human_as_tool(hl, CHANNEL)
        task = asyncio.create_task(ask_tool.ainvoke({"message": "Ship today?"}))
        ask = await alice.wait_for_message(containing("Ship today?"), timeout=60)
        await alice.reply(ask, "Yes, ship it.")
        assert await asyncio.wait_for(task, 60) == "Yes, ship it."


async def test_langchain_with_the_sync_client(served, mail_client):
    """The sync HumanLayer twin: plain functions become sync StructuredTools."""
    pytest.importorskip("langchain_core")
    from hl_email_sdk import HumanLayer
    from hl_email_sdk.integrations.langchain import require_approval

    alice = mail_client(ALICE)

    def restart_service(name: str, force: bool = False) -> str:
        """Restart a service."""
        return f"restarted {name} (force={force})"

    def agent() -> str:
        with HumanLayer(api_base_url=served, api_key=KEY) as hl:
            gated = require_approval(hl, restart_service, CHANNEL)
            assert gated.name == "restart_service" and set(gated.args) == {"name", "force"}
            return gated.invoke({"name": "billing-api"})

    task = asyncio.create_task(asyncio.to_thread(agent))
    ask = await alice.wait_for_message(containing("billing-api"), timeout=60)
    await alice.reply(ask, "approve")
    assert await asyncio.wait_for(task, 60) == "restarted billing-api (force=False)"


# -- LangGraph ---------------------------------------------------------------------------------


async def test_langgraph_example(served, mail_client):
    pytest.importorskip("langgraph")
    alice = mail_client(ALICE)
    proc = await run_example("langgraph_agent.py", served)
    ask = await alice.wait_for_message(containing("A-17"), timeout=60)
    await alice.reply(ask, "approve")
    question = await alice.wait_for_message(containing("Anything to tell the customer"), 60)
    await alice.reply(question, "Tell them sorry for the delay.")
    out = await finish(proc)
    assert "result: refunded 120 on A-17" in out
    assert "note: Tell them sorry for the delay." in out


async def test_langgraph_resumes_the_same_email_after_a_restart(served, mail_client):
    """The agent process dies while waiting; a new one (same checkpointer, new client) waits
    on the same call_id, so the human is not asked twice and her reply resumes the graph."""
    pytest.importorskip("langgraph")
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import langgraph_agent
    finally:
        sys.path.remove(str(ROOT / "examples"))
    from hl_email_sdk.integrations.langgraph import call_id_for, run_with_email

    alice = mail_client(ALICE)
    graph = langgraph_agent.build_graph()
    config = {"configurable": {"thread_id": "restart-1"}}
    async with AsyncHumanLayer(api_base_url=served, api_key=KEY) as hl:
        first = asyncio.create_task(
            run_with_email(
                hl, graph, {"order": "B-2", "amount": 9}, config, contact_channel=CHANNEL
            )
        )
        ask = await alice.wait_for_message(containing("B-2"), timeout=60)
        first.cancel()  # the process dies while waiting
        with pytest.raises(asyncio.CancelledError):
            await first
        # A run that gives up waiting leaves the graph paused and the email open.
        with pytest.raises(HumanLayerTimeoutError):
            await run_with_email(hl, graph, None, config, contact_channel=CHANNEL, timeout=0.3)
    pending = (await graph.aget_state(config)).interrupts
    assert len(pending) == 1
    call_id = call_id_for(config, pending[0])
    async with AsyncHumanLayer(api_base_url=served, api_key=KEY) as hl2:
        second = asyncio.create_task(
            run_with_email(hl2, graph, None, config, contact_channel=CHANNEL, timeout=120)
        )
        await alice.reply(ask, "REJECT: wrong order")
        question = await alice.wait_for_message(containing("Anything to tell"), timeout=60)
        await alice.reply(question, "no")
        final = await asyncio.wait_for(second, 60)
        assert final["result"] == "not refunded: wrong order"
        stored = await hl2.get_function_call(call_id)
        assert stored.status.approved is False
    asks = [m for m in await alice.inbox() if "B-2" in m.text() and "issue_refund" in m.subject]
    assert len(asks) == 1  # asked once, across the restart


# -- OpenAI Agents SDK -------------------------------------------------------------------------


async def test_openai_agents_example_and_rejection(served, mail_client):
    pytest.importorskip("agents")
    alice = mail_client(ALICE)
    proc = await run_example("openai_agents_agent.py", served)
    ask = await alice.wait_for_message(containing("A-17"), timeout=60)
    assert "issue_refund" in ask.text()
    await alice.reply(ask, "approved")
    assert "agent: refunded 120 on A-17" in await finish(proc)

    proc = await run_example("openai_agents_agent.py", served)
    ask = await alice.wait_for_message(containing("A-17"), timeout=60)
    await alice.reply(ask, "REJECT: customer already got a voucher")
    out = await finish(proc)
    assert "agent: User denied issue_refund with message: customer already got a voucher" in out


async def test_openai_agents_contact_human_tool(served, mail_client):
    pytest.importorskip("agents")
    from agents import Agent, Runner, set_tracing_disabled
    from hl_email_sdk.integrations.openai_agents import contact_human_tool

    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import openai_agents_agent
    finally:
        sys.path.remove(str(ROOT / "examples"))
    set_tracing_disabled(True)
    alice = mail_client(ALICE)
    async with AsyncHumanLayer(api_base_url=served, api_key=KEY) as hl:
        tool = contact_human_tool(hl, CHANNEL)
        assert tool.name == "contact_human_via_email_alice_corp_test"
        agent = Agent(
            name="support",
            model=openai_agents_agent.ScriptedModel(tool.name, {"message": "Which warehouse?"}),
            tools=[tool],
        )
        run = asyncio.create_task(Runner.run(agent, "Where do we ship from?"))
        ask = await alice.wait_for_message(containing("Which warehouse?"), timeout=60)
        await alice.reply(ask, "Rotterdam.")
        result = await asyncio.wait_for(run, 60)
        assert result.final_output == "Rotterdam."


async def test_openai_agents_repeated_tool_call_ids_are_asked_again(served, mail_client):
    """Providers that number tool calls per response ("call_0") reuse ids across runs: a later
    run must not pick up an earlier run's approval."""
    pytest.importorskip("agents")
    from agents import Agent, set_tracing_disabled
    from hl_email_sdk.integrations.openai_agents import run_with_email_approvals

    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import openai_agents_agent
    finally:
        sys.path.remove(str(ROOT / "examples"))

    class NumberedCalls(openai_agents_agent.ScriptedModel):
        async def get_response(self, *args, **kwargs):
            response = await super().get_response(*args, **kwargs)
            response.output = [
                item.model_copy(update={"call_id": "call_0"})
                if getattr(item, "type", "") == "function_call"
                else item
                for item in response.output
            ]
            return response

    set_tracing_disabled(True)
    alice = mail_client(ALICE)
    async with AsyncHumanLayer(api_base_url=served, api_key=KEY) as hl:
        agent = Agent(
            name="refunds", model=NumberedCalls(), tools=[openai_agents_agent.issue_refund]
        )
        for _ in range(2):
            run = asyncio.create_task(
                run_with_email_approvals(agent, "Refund A-17.", hl, contact_channel=CHANNEL)
            )
            ask = await alice.wait_for_message(containing("A-17"), timeout=60)
            await alice.reply(ask, "approved")
            result = await asyncio.wait_for(run, 60)
            assert result.final_output == "refunded 120 on A-17"


# -- the examples against `hl-email dev` (the in-process sandbox it runs) -----------------------


@pytest.mark.parametrize(
    ("example", "answers", "expected"),
    [
        ("langchain_agent.py", ["approve"], "tool issue_refund: refunded 120 on A-17"),
        ("langgraph_agent.py", ["approve", "Say sorry."], "note: Say sorry."),
        ("openai_agents_agent.py", ["approve"], "agent: refunded 120 on A-17"),
    ],
)
async def test_examples_run_against_the_dev_sandbox(tmp_path, example, answers, expected):
    """As the README says: `hl-email dev` in one terminal, the example in another, answered
    in the sandbox's inbox (here its own reply path, which the web inbox's Send button uses)."""
    pytest.importorskip(
        {"langchain_agent.py": "langchain_core", "langgraph_agent.py": "langgraph"}.get(
            example, "agents"
        )
    )
    from hl_email.sandbox import Sandbox, mailbox_name

    sandbox = Sandbox(tmp_path / ".hl-email-dev", port=0)  # `hl-email dev` run in tmp_path
    await sandbox.start()
    await sandbox.start_http()
    try:
        env = {
            **os.environ,
            "HUMANLAYER_API_BASE": sandbox.api_base_url,
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), str(ROOT / "sdk"), os.environ.get("PYTHONPATH", "")]
            ),
        }
        # The example's defaults, as a first run has them: the approver, and the API key the
        # sandbox generated in ./.hl-email-dev.
        env.pop("APPROVER", None)
        env.pop("HUMANLAYER_API_KEY", None)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "examples" / example),
            env=env,
            cwd=str(tmp_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        box = mailbox_name("approver@example.com")
        answered: set[str] = set()
        for answer in answers:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while True:
                fresh = [
                    m
                    for m in sandbox.list_messages(box)
                    if m.folder == "inbox" and m.key not in answered and "Re:" not in m.subject
                ]
                if fresh:
                    break
                assert loop.time() < deadline, "no ask arrived in the sandbox inbox"
                assert proc.returncode is None, (await proc.stderr.read()).decode()
                await asyncio.sleep(0.05)
            answered.add(fresh[0].key)
            await sandbox.send_reply(box, fresh[0].key, body=answer)
        assert expected in await finish(proc)
    finally:
        await sandbox.stop()
