"""Inline images in the text part: the placeholder a mail client writes for a signature's logo
("[cid:…]" Outlook, "[image: logo.png]" Gmail, "<image001.png>" Apple Mail) is not something
the human said: an approval with one is still an approval. Anything else around it is read as
before, and alt text that is not a file name (an emoji, a sticker's words) is read too."""

from __future__ import annotations

import pytest

from hl_email.replies.decide import decide

ARGUMENTS = {"customer": "ACME GmbH", "amount": 120, "currency": "EUR", "order": "A-7731"}
OUTLOOK_LOGO = "[cid:image001.png@01D9A1B2.C3D4E5F0]"
OUTLOOK_QUOTE = (
    "\n\n________________________________\nFrom: Refund agent <agent@example.test>\n"
    "Sent: Tuesday, December 1, 2026 9:14 AM\nTo: Anna Berg <anna@example.test>\n"
    "Subject: Approve issue_refund?\n\nRefund agent would like to run issue_refund.\n"
)


@pytest.mark.parametrize(
    "text",
    [
        f"Approved\n\nAnna Berg\nHead of Finance\n{OUTLOOK_LOGO}",
        f"Approved\n\nAnna Berg\nHead of Finance\n{OUTLOOK_LOGO}{OUTLOOK_QUOTE}",
        f"Approve\n{OUTLOOK_LOGO}",
        f"Yes, approved.\n\nBest regards,\nAnna\n{OUTLOOK_LOGO}\n{OUTLOOK_LOGO}",
        "Approved\n\nThanks,\nAnna\n[image: acme-logo.png]",
        "Approved\n\nKind regards,\nAnna Berg\n<image001.png>",
        "Genehmigt\n\nViele Grüße\nAnna Berg\n[cid:image002.jpg@01DA0B1C.D2E3F4A5]",
    ],
)
def test_a_signature_logo_does_not_stop_an_approval(text: str) -> None:
    assert decide(text, arguments=ARGUMENTS).verdict == "approve"


@pytest.mark.parametrize(
    "text",
    [
        f"Not approved\n{OUTLOOK_LOGO}",
        f"Approved {OUTLOOK_LOGO} but wait",
        f"Approved\n{OUTLOOK_LOGO}\nnot yet",
        f"{OUTLOOK_LOGO}\nApproved?",
        f"Approved\n{OUTLOOK_LOGO}\nonly 50 EUR",
        "Approved\n[cid:no]",  # not a content id: read as words
        "Approved\n[cid:not yet]",
        "Approved\n[image: 👎]",  # alt text of a picture the human sent
        "Approved [image: thumbs down]",
        "Approved\n[image: not this one]",
        f"{OUTLOOK_LOGO}",
    ],
)
def test_what_is_around_or_inside_an_image_placeholder_is_still_read(text: str) -> None:
    assert decide(text, arguments=ARGUMENTS).verdict != "approve"
