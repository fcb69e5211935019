"""`hl-email dev` in a real headless Chromium: the agent waits, a person clicks the email's own
Approve button in the web inbox, presses Send, and the agent's call resolves.

Needs Debian's chromium (/usr/bin/chromium) and the playwright Python package (no browser
download: Playwright drives the system Chromium).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import shutil
import sys
from pathlib import Path

import pytest

from hl_email.sandbox import Sandbox

CHROMIUM = os.environ.get("HL_EMAIL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (pip install playwright)"
)
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(
        f"chromium not found at {CHROMIUM} (apt-get install chromium)", allow_module_level=True
    )


@pytest.fixture
async def sandbox(tmp_path):
    box = Sandbox(tmp_path / "dev", port=0)
    await box.start()
    await box.start_http()
    try:
        yield box
    finally:
        await box.stop()


@pytest.fixture
async def browser(tmp_path):
    async with playwright_api.async_playwright() as p:
        context = await p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh --user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            await context.close()


async def wait_for_inbox(sandbox: Sandbox, address: str) -> list:
    for _ in range(600):
        if address in sandbox.boxes() and sandbox.list_messages(address):
            return sandbox.list_messages(address)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no email reached {address}")


async def test_click_approve_in_the_web_inbox_resolves_the_agents_call(sandbox, browser, tmp_path):
    # The example agent, unchanged, as a separate process using the remote SDK.
    env = {
        **os.environ,
        "HUMANLAYER_API_BASE": sandbox.api_base_url,
        "HUMANLAYER_API_KEY": sandbox.api_key,
        "REFUND_APPROVER": "alice@example.com",
    }
    agent = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO / "examples" / "refund_agent.py"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        (ask,) = await wait_for_inbox(sandbox, "alice@example.com")
        rows = await sandbox.gateway.store.list_requests()
        assert [r.state for r in rows] == ["pending"]
        assert agent.returncode is None  # the agent is waiting on the human

        page = await browser.new_page()
        await page.goto(sandbox.inbox_url)
        await page.get_by_role("link", name=ask.subject).click()
        await page.wait_for_selector("iframe.mail")
        # The email as Alice sees it: its own HTML, in a sandboxed iframe.
        frame = page.frame_locator("iframe.mail")
        await frame.get_by_role("link", name="Approve").wait_for()
        assert await page.get_attribute("iframe.mail", "sandbox") is not None
        await page.screenshot(path=str(tmp_path / "message.png"), full_page=True)

        # The email's own mailto button opens the reply box, prefilled from the mailto body.
        await frame.get_by_role("link", name="Approve").click()
        textarea = page.locator("form.reply textarea[name=body]")
        await page.wait_for_function(
            "document.querySelector('form.reply textarea').value.startsWith('APPROVE')"
        )
        assert (await textarea.input_value()).startswith("APPROVE")
        assert (await page.input_value("form.reply input[name=to]")) == sandbox.agent_address
        await page.get_by_role("button", name="Send").click()
        await page.wait_for_selector("#sent-banner")
        banner = await page.inner_text("#sent-banner")
        assert "applied" in banner
        await page.screenshot(path=str(tmp_path / "sent.png"), full_page=True)

        out, _ = await asyncio.wait_for(agent.communicate(), 60)
        output = out.decode()
        assert agent.returncode == 0, output
        assert "refund agent: Refund issued: 49.00 EUR for order A-1001" in output
    finally:
        if agent.returncode is None:
            agent.kill()
            await agent.wait()

    (row,) = await sandbox.gateway.store.list_requests()
    assert row.state == "done" and row.status["approved"] is True
    # What reached the agent's mailbox is a real reply, processed by the normal pipeline.
    (received,) = sandbox.list_messages(sandbox.agent_address)
    assert received.outcome is not None and received.outcome["outcome"] == "applied"
    _, raw = sandbox.read(sandbox.agent_address, received.key)
    reply = email.message_from_bytes(raw, policy=email.policy.default)
    assert reply["From"].addresses[0].addr_spec == "alice@example.com"
    assert reply["Subject"] == "Re: " + ask.subject
    assert reply["In-Reply-To"] == ask.message_id
    assert ask.message_id in reply["References"]
    text = reply.get_content().replace("\r\n", "\n")
    assert text.startswith("APPROVE\n")
    assert "wrote:\n> " in text and "> Reply APPROVE, or REJECT" in text
    # Alice keeps a copy in Sent, and gets the gateway's confirmation in the same thread.
    folders = {m.folder for m in sandbox.list_messages("alice@example.com")}
    assert "sent" in folders


async def test_typed_answer_to_a_question_reaches_the_agent(sandbox, browser):
    """A free-text answer typed in the reply box (no button) answers human_as_tool."""
    from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel

    async with AsyncHumanLayer(api_base_url=sandbox.api_base_url, api_key=sandbox.api_key) as hl:
        tool = hl.human_as_tool(
            ContactChannel(email=EmailContactChannel(address="bob@example.com"))
        )
        answer = asyncio.create_task(tool("Which warehouse should ship order A-1001?"))
        try:
            (ask,) = await wait_for_inbox(sandbox, "bob@example.com")
            page = await browser.new_page()
            await page.goto(f"{sandbox.inbox_url}/bob%40example.com")
            await page.get_by_role("link", name=ask.subject).click()
            await page.get_by_role("link", name="Plain text").click()
            assert "Which warehouse should ship order A-1001?" in await page.inner_text("pre.text")
            await page.fill("form.reply textarea[name=body]", "Ship it from Leipzig, please.")
            await page.get_by_role("button", name="Send").click()
            await page.wait_for_selector("#sent-banner")
            assert "applied" in await page.inner_text("#sent-banner")
            assert "Leipzig" in await asyncio.wait_for(answer, 60)
        finally:
            answer.cancel()
