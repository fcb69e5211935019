"""The operator console in a real headless Chromium: sign in with an admin key, filter the
requests, open one's thread (ask, unclear reply and why, clarification), re-send and cancel; the
people asked get the emails. Runs on the sandbox's app (the console is part of every API app)."""

from __future__ import annotations

import asyncio
import os
import shutil

import httpx
import pytest

from hl_email.models import ContactChannel, EmailContactChannel, FunctionCall, FunctionCallSpec
from hl_email.sandbox import Sandbox

CHROMIUM = os.environ.get("HL_EMAIL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
ADMIN = "admin-key-0123"
BOB = "bob@example.com"

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)


@pytest.fixture
async def sandbox(tmp_path):
    config = tmp_path / "hl-email.toml"
    config.write_text(f'[api]\nadmin_keys = ["{ADMIN}"]\n', encoding="utf-8")
    box = Sandbox(tmp_path / "dev", port=0, config=config)
    await box.start()
    await box.start_http()
    try:
        yield box
    finally:
        await box.stop()


async def inbox(sandbox: Sandbox, address: str, count: int) -> list:
    for _ in range(600):
        got = [m for m in sandbox.list_messages(address) if m.folder == "inbox"]
        if len(got) >= count:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"{address} did not get {count} emails")


async def create(sandbox: Sandbox, call_id: str, fn: str) -> None:
    await sandbox.gateway.create_function_call(
        FunctionCall(
            run_id="console-run",
            call_id=call_id,
            spec=FunctionCallSpec(
                fn=fn,
                kwargs={"amount": 42},
                channel=ContactChannel(email=EmailContactChannel(address=BOB)),
            ),
        )
    )


async def test_console_thread_resend_and_cancel(sandbox, tmp_path):
    await create(sandbox, "console-1", "issue_refund")
    await create(sandbox, "console-2", "delete_account")
    asks = await inbox(sandbox, BOB, 2)
    refund_ask = next(m for m in asks if "issue_refund" in m.subject)
    _, outcome = await sandbox.send_reply(BOB, refund_ask.key, body="maybe later")
    assert outcome["outcome"] == "unclear_asked_again"
    await inbox(sandbox, BOB, 3)

    base = sandbox.base_url
    async with httpx.AsyncClient() as client:  # without a key: the sign-in page, nothing else
        anonymous = await client.get(f"{base}/console/requests/console-1")
        assert anonymous.status_code == 401 and "Admin key" in anonymous.text
        assert "console-1" not in anonymous.text
        forged = await client.post(f"{base}/console/requests/console-1/cancel")
        assert forged.status_code == 401

    async with playwright_api.async_playwright() as p:
        context = await p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS
        )
        try:
            page = await context.new_page()
            await page.goto(f"{base}/console")
            await page.fill("input[name=key]", "wrong")
            await page.click("button[type=submit]")
            assert "not an admin key" in await page.inner_text("#login-error")
            await page.fill("input[name=key]", ADMIN)
            await page.click("button[type=submit]")
            await page.wait_for_selector("#requests")
            assert await page.locator("tr.request").count() == 2
            await page.fill("input[name=q]", "refund")
            await page.click("form.filters button")
            await page.wait_for_selector("#requests")
            assert await page.locator("tr.request").count() == 1
            await page.click("text=approve issue_refund")
            await page.wait_for_selector("#thread")
            thread = await page.inner_text("#thread")
            assert "ask" in thread and "clarify" in thread
            assert "unclear_asked_again" in thread
            assert "unsure" in thread  # the reason, not only the outcome
            assert "maybe later" in thread
            await page.click("#resend")
            assert "Re-sent" in await page.inner_text("#flash")
            await page.click("#cancel")
            assert "Cancelled" in await page.inner_text("#flash")
            assert (await page.inner_text("#state")).strip() == "cancelled"
            assert await page.locator("#cancel").count() == 0
            await page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
        finally:
            await context.close()

    messages = await inbox(sandbox, BOB, 5)  # ask x2, clarification, re-send, cancelled note
    texts = " ".join(sandbox.read(BOB, m.key)[1].decode("utf-8", "replace") for m in messages)
    assert "no longer needed" in texts
    row = await sandbox.gateway.store.get_request(call_id="console-1")
    assert row.status["cancelled"] is True
    assert row.status["error"] == "cancelled by an operator (console)"
    other = await sandbox.gateway.store.get_request(call_id="console-2")
    assert other.state == "pending"
