"""The MCP server (official `mcp` client library) over stdio and streamable HTTP, answered by a
human's email replies on the real Dovecot + SMTP stack."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

mcp = pytest.importorskip("mcp", reason="the mcp extra is not installed")
httpx2 = pytest.importorskip("httpx2")

from mcp import Client, StdioServerParameters  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from hl_email.api import ApiServer, create_app  # noqa: E402
from hl_email.gateway import Gateway  # noqa: E402

ALICE = "alice@corp.test"
KEY = "mcp-test-key-123"
ROOT = Path(__file__).resolve().parents[2]


def _toml(cfg: Any) -> str:
    """The test stack's config as a TOML file for a subprocess."""
    out = []
    for section in ("agent", "smtp", "imap", "store", "security", "mcp"):
        out.append(f"[{section}]")
        for key, value in getattr(cfg, section).model_dump(exclude_none=True).items():
            if isinstance(value, list | dict):
                continue
            out.append(f"{key} = {json.dumps(value)}")
    return "\n".join(out) + "\n"


class Progress:
    """Collects MCP progress notifications; `seen` is set at the first."""

    def __init__(self) -> None:
        self.messages: list[str | None] = []
        self.seen = asyncio.Event()

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.messages.append(message)
        self.seen.set()


async def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def _pythonpath() -> str:
    return os.pathsep.join([str(ROOT), str(ROOT / "sdk"), os.environ.get("PYTHONPATH", "")])


def _text(result: Any) -> str:
    assert result.content, result
    return result.content[0].text


def containing(needle: str):
    def match(msg) -> bool:
        part = msg.get_body(preferencelist=("plain", "html"))
        return part is not None and needle in part.get_content()

    return match


async def test_stdio_permission_prompt_allow_and_deny(gateway_config, mail_client, tmp_path):
    cfg = gateway_config(mcp={"contact": ALICE, "progress_interval": 0.2, "timeout": 600})
    config_file = tmp_path / "hl-email.toml"
    config_file.write_text(_toml(cfg))
    env = {"PYTHONPATH": _pythonpath()}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "hl_email.cli", "mcp", "--config", str(config_file)],
        env=env,
        cwd=str(tmp_path),
    )
    alice = mail_client(ALICE)
    async with Client(params, read_timeout_seconds=120) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert {"request_permission", "request_approval", "contact_human"} <= set(tools)
        schema = tools["request_permission"].input_schema
        assert {"tool_name", "input"} <= set(schema["required"])

        # Allowed: Claude Code's contract, with the tool's input passed back unchanged.
        progress = Progress()
        bash = {"command": "git push origin main", "description": "Push to main"}
        call = asyncio.create_task(
            client.call_tool(
                "request_permission",
                {"tool_name": "Bash", "input": bash, "tool_use_id": "toolu_01"},
                progress_callback=progress,
            )
        )
        ask = await alice.wait_for_message(containing("git push origin main"), timeout=60)
        assert "Bash" in ask.text()
        await asyncio.wait_for(progress.seen.wait(), 60)  # still pending: progress arrives
        assert not call.done()
        await alice.reply(ask, "Approved.", style="gmail")
        result = await asyncio.wait_for(call, 60)
        assert not result.is_error
        assert json.loads(_text(result)) == {"behavior": "allow", "updatedInput": bash}
        assert any(m and "waiting for approval of Bash" in m for m in progress.messages)

        # Denied: the human's words go back to the model.
        call = asyncio.create_task(
            client.call_tool(
                "request_permission",
                {"tool_name": "Write", "input": {"file_path": "/etc/hosts"}, "tool_use_id": "t2"},
            )
        )
        ask = await alice.wait_for_message(containing("/etc/hosts"), timeout=60)
        await alice.reply(ask, "REJECT: leave /etc alone", style="outlook")
        result = await asyncio.wait_for(call, 60)
        assert json.loads(_text(result)) == {
            "behavior": "deny",
            "message": "leave /etc alone",
        }

        # Unclear is never an allow: the tool keeps waiting, the human is asked again.
        call = asyncio.create_task(
            client.call_tool(
                "request_approval",
                {"function_name": "drop_table", "arguments": {"table": "users"}},
            )
        )
        ask = await alice.wait_for_message(containing("drop_table"), timeout=60)
        await alice.reply(ask, "hmm, what is this for?", style="apple")
        clarify = await alice.wait_for_message(
            lambda m: ask.message_id in str(m.get("References", "")), timeout=60
        )
        assert not call.done()
        await alice.reply(clarify, "No, do not drop it.", style="plain")
        result = await asyncio.wait_for(call, 60)
        body = json.loads(_text(result))
        assert body["approved"] is False and body["call_id"]


async def test_http_mcp_contact_human_auth_and_fail_closed(gateway_config, mail_client, tmp_path):
    cfg = gateway_config(
        api={"host": "127.0.0.1", "port": 0, "api_keys": [KEY], "admin_keys": ["admin-key-1"]},
        mcp={"contact": ALICE, "progress_interval": 0.2, "timeout": 600},
    )
    gateway = Gateway(cfg)
    await gateway.start()
    server = ApiServer(gateway, cfg, app=create_app(gateway, cfg))
    await server.start()
    url = server.base_url + "/mcp"
    alice = mail_client(ALICE)
    try:
        # No key, wrong key: refused before MCP sees the request.
        async with httpx2.AsyncClient() as http:
            init = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
            r = await http.post(url, json=init)
            assert r.status_code == 401
            r = await http.post(url, json=init, headers={"Authorization": "Bearer nope"})
            assert r.status_code == 401
            # An admin key may read and cancel, not create requests: no MCP tools for it.
            r = await http.post(url, json=init, headers={"Authorization": "Bearer admin-key-1"})
            assert r.status_code == 403

        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=120)
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert "contact_human" in names

            progress = Progress()
            call = asyncio.create_task(
                client.call_tool(
                    "contact_human",
                    {"question": "Which region should the new cluster run in?"},
                    progress_callback=progress,
                )
            )
            ask = await alice.wait_for_message(containing("new cluster"), timeout=60)
            await asyncio.wait_for(progress.seen.wait(), 60)
            assert not call.done()
            await alice.reply(ask, "eu-west-1, please.", style="gmail")
            result = await asyncio.wait_for(call, 60)
            assert not result.is_error
            assert _text(result) == "eu-west-1, please."

            call = asyncio.create_task(
                client.call_tool(
                    "request_approval",
                    {"function_name": "send_refund", "arguments": {"amount": 120}},
                )
            )
            ask = await alice.wait_for_message(containing("send_refund"), timeout=60)
            await alice.reply(ask, "approve", style="gmail")
            body = json.loads(_text(await asyncio.wait_for(call, 60)))
            assert body["approved"] is True
            row = await gateway.store.get_request(call_id=body["call_id"])
            assert row is not None and row.run_id == "mcp" and row.state == "done"

            # The client gives up on a tool call: the request is cancelled, not left open.
            call = asyncio.create_task(
                client.call_tool(
                    "request_approval", {"function_name": "rotate_keys", "arguments": {}}
                )
            )
            await alice.wait_for_message(containing("rotate_keys"), timeout=60)
            call.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await call

            async def cancelled() -> bool:
                rows = await gateway.store.list_requests()
                return any(
                    r.spec.get("fn") == "rotate_keys" and r.status.get("cancelled") for r in rows
                )

            await wait_for(cancelled)

        # Nobody answers in time: denied (fail closed), never allowed.
        cfg.mcp.timeout = 0.5
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=120)
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            result = await client.call_tool(
                "request_permission", {"tool_name": "Bash", "input": {"command": "rm -rf build"}}
            )
            decision = json.loads(_text(result))
            assert decision["behavior"] == "deny"
            assert "fail closed" in decision["message"]
            # ...and the request is cancelled, so a late "approve" cannot resolve it.
            rows = [
                r for r in await gateway.store.list_requests() if "rm -rf" in json.dumps(r.spec)
            ]
            assert len(rows) == 1 and rows[0].status.get("cancelled") is True
            result = await client.call_tool("contact_human", {"question": "Anyone there?"})
            assert result.is_error and "no answer" in _text(result)

        # `hl-email mcp --api-base-url`: stdio in front of this running gateway (one watcher).
        remote_cfg = tmp_path / "remote.toml"
        remote_cfg.write_text(f'[mcp]\ncontact = "{ALICE}"\nrun_id = "mcp-remote"\n')
        params = StdioServerParameters(
            command=sys.executable,
            args=[
                "-m",
                "hl_email.cli",
                "mcp",
                "--config",
                str(remote_cfg),
                "--api-base-url",
                server.base_url + "/humanlayer/v1",
            ],
            env={"HUMANLAYER_API_KEY": KEY, "PYTHONPATH": _pythonpath()},
            cwd=str(tmp_path),
        )
        cfg.mcp.timeout = 600
        async with Client(params, read_timeout_seconds=120) as client:
            call = asyncio.create_task(
                client.call_tool(
                    "request_permission",
                    {"tool_name": "Edit", "input": {"file_path": "remote.py"}, "tool_use_id": "r1"},
                )
            )
            ask = await alice.wait_for_message(containing("remote.py"), timeout=60)
            await alice.reply(ask, "approve")
            decision = json.loads(_text(await asyncio.wait_for(call, 60)))
            assert decision == {"behavior": "allow", "updatedInput": {"file_path": "remote.py"}}
        row = await gateway.store.get_request(call_id="mcp-perm-r1")
        assert row is not None and row.run_id == "mcp-remote" and row.state == "done"

        # Nobody to ask (no [mcp] contact, no route): denied with the reason, not an error.
        from hl_email_sdk import AsyncHumanLayer

        from hl_email.api.mcp_server import build_mcp_server
        from hl_email.config import McpConfig

        lonely = build_mcp_server(AsyncHumanLayer.local(gateway=gateway), McpConfig())
        async with Client(lonely) as client:
            result = await client.call_tool(
                "request_permission", {"tool_name": "Bash", "input": {"command": "ls"}}
            )
            decision = json.loads(_text(result))
            assert decision["behavior"] == "deny" and "no route" in decision["message"]
    finally:
        await server.stop()
        await gateway.stop()
