"""The dev sandbox against DNS rebinding (issue 10, item 6): a Host that is not the sandbox is
refused, and a form post from another site cannot answer a request. Its API key is generated
and kept, never a fixed value."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel, FunctionCallSpec

from hl_email.sandbox import Sandbox

BOB = "bob@example.com"


@pytest.fixture
async def sandbox(tmp_path):
    box = Sandbox(tmp_path / "dev", port=0)
    await box.start()
    await box.start_http()
    try:
        yield box
    finally:
        await box.stop()


async def wait_for_inbox(sandbox: Sandbox, address: str) -> list:
    for _ in range(600):
        if address in sandbox.boxes() and sandbox.list_messages(address):
            return sandbox.list_messages(address)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no email reached {address}")


async def test_the_api_key_is_generated_and_kept(tmp_path):
    first = Sandbox(tmp_path / "dev", port=0)
    await first.start()
    try:
        key = first.api_key
        assert len(key) >= 32 and key not in ("dev", "")
    finally:
        await first.stop()
    again = Sandbox(tmp_path / "dev", port=0)
    await again.start()
    try:
        assert again.api_key == key
        assert (tmp_path / "dev" / "api_key").stat().st_mode & 0o077 == 0
    finally:
        await again.stop()


async def test_rebound_host_and_cross_site_posts_are_refused(sandbox):
    port = sandbox.port
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=10) as http:
        for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            r = await http.get("/dev/inbox", headers={"Host": host})
            assert r.status_code == 200, host
        for host in (f"evil.test:{port}", f"127.0.0.1.evil.test:{port}", "127.0.0.1:1", ""):
            r = await http.get("/dev/inbox", headers={"Host": host})
            assert r.status_code == 421, host
            r = await http.post(
                "/humanlayer/v1/function_calls",
                headers={"Host": host, "Authorization": f"Bearer {sandbox.api_key}"},
                json={"run_id": "r", "call_id": "x", "spec": {"fn": "f", "kwargs": {}}},
            )
            assert r.status_code == 421
        assert await sandbox.gateway.store.list_requests() == []

    async with AsyncHumanLayer(api_base_url=sandbox.api_base_url, api_key=sandbox.api_key) as hl:
        channel = ContactChannel(email=EmailContactChannel(address=BOB))
        call = await hl.create_function_call(
            FunctionCallSpec(fn="wire", kwargs={}, channel=channel)
        )
        (ask,) = await wait_for_inbox(sandbox, BOB)
        path = f"/dev/inbox/{BOB}/{ask.key}/reply"
        async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=10) as http:
            for headers in (
                {"Origin": "http://evil.test"},
                {"Origin": "null"},
                {"Origin": f"http://evil.test:{sandbox.port}"},
                {"Sec-Fetch-Site": "cross-site"},
            ):
                r = await http.post(
                    path,
                    content="body=APPROVE",
                    headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
                )
                assert r.status_code == 403, headers
            await asyncio.sleep(0.3)
            assert (await hl.get_function_call(call.call_id)).status.approved is None
            # The sandbox's own page posts with its own Origin: that works.
            r = await http.post(
                path,
                content="body=APPROVE",
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": sandbox.base_url,
                    "Sec-Fetch-Site": "same-origin",
                },
            )
            assert r.status_code == 303, r.text
        done = await asyncio.wait_for(hl.wait_for_approval(call.call_id), 30)
        assert done.call.status.approved is True
