"""edits_in_our_quote: what the human changed inside the quote of our email (pure)."""

from __future__ import annotations

import pytest

from hl_email.replies.quote_edits import edits_in_our_quote

OURS = """##- Please type your reply above this line -##

Refund agent wants to call issue_refund and is waiting for your decision.

Function: issue_refund
Arguments:
  order: A-7731
  amount: 120
  currency: EUR

Reply APPROVE, or REJECT and a reason.

--
Sent by hl-email on behalf of Refund agent <agent@example.test>.
Only the text above the first line of this email is read. Request c1
"""
# The same email's HTML part as a client renders it to text (cells on their own lines).
OURS_HTML = """##- Please type your reply above this line -##

Refund agent · approval request

Approve issue_refund?

Refund agent wants to call issue_refund with these arguments and is waiting for your decision.

order A-7731

amount 120

currency EUR

Approve<mailto:agent@example.test?subject=Re%3A%20Approve&body=APPROVE>

Reject<mailto:agent@example.test?subject=Re%3A%20Approve&body=REJECT>

A button opens a prefilled reply: just press Send. Or reply to this email with APPROVE, or
REJECT and a reason.

Sent by hl-email on behalf of Refund agent (agent@example.test). Your reply goes back to the
agent; only the text above the grey line at the top is read.
Request c1
"""
OUTLOOK = (
    "Approved\n\nAnna\n\n________________________________\n"
    "From: Refund agent <agent@example.test>\nSent: Tuesday, December 1, 2026 9:14 AM\n"
    "To: Anna Berg <anna@corp.test>\nSubject: Approval needed: issue_refund (amount=120)\n\n"
)
GMAIL = "Approved\n\nOn Tue, 1 Dec 2026 at 09:14, Refund agent <agent@example.test> wrote:\n"
OLDER = (
    "\n\n-----Original Message-----\nFrom: Anna Berg\nSent: Monday\n\n"
    "not yet, waiting for legal, only 50\n\n"
)


def _quoted(text: str) -> str:
    return "\n".join("> " + line for line in text.split("\n"))


@pytest.mark.parametrize(
    "body",
    [
        OUTLOOK + OURS,
        OUTLOOK + OURS_HTML,
        OUTLOOK + OURS.replace("is waiting for", "is\nwaiting for"),  # re-wrapped
        OUTLOOK + OURS.replace("\n", "\r\n"),
        GMAIL + _quoted(OURS),
        OUTLOOK + OURS + OLDER + OURS,  # the human's own older reply further down
        "Approved\n\nCAUTION: do not click links unless you trust the sender, not even once.\n"
        + OUTLOOK[len("Approved\n\nAnna\n\n") :]
        + OURS,  # a gateway's banner above the quote
        "Approved",  # no quote at all
        OUTLOOK + "something else entirely, not ours: 999",  # not our email
    ],
)
def test_an_unedited_quote_is_no_edit(body: str) -> None:
    assert edits_in_our_quote(body, [OURS, OURS_HTML]) is None


@pytest.mark.parametrize(
    ("body", "edit"),
    [
        (OUTLOOK + OURS.replace("amount: 120", "amount: 50"), "50"),
        (OUTLOOK + OURS.replace("amount: 120", "amount: 120 -> only 50!"), "only 50"),
        (OUTLOOK + OURS_HTML.replace("amount 120", "amount 75"), "75"),
        (OUTLOOK + OURS.replace("Reply APPROVE", "NOT THIS ORDER\nReply APPROVE"), "not this"),
        (OUTLOOK + OURS.replace("currency: EUR", "currency: EUR\nwait until Monday"), "wait"),
        (OUTLOOK + OURS.replace("order: A-7731", "order: A-7731 <- nicht diese!"), "nicht"),
        (OUTLOOK + OURS.replace("order: A-7731", "order: A-7731 (seulement si validé)"), "si"),
        (GMAIL + _quoted(OURS.replace("amount: 120", "amount: 20")), "20"),
    ],
)
def test_a_changed_number_or_an_added_signal_word_is_an_edit(body: str, edit: str) -> None:
    found = edits_in_our_quote(body, [OURS, OURS_HTML])
    assert found is not None and edit in found


def test_without_our_emails_nothing_is_compared() -> None:
    assert edits_in_our_quote(OUTLOOK + OURS.replace("120", "50"), []) is None
