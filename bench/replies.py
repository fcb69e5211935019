"""Reply-stage speed: extraction + classification + decision over the public corpora.

Prints, first, the inbound path per message through ``inbound.reading.read_message`` (the
receiver's one read: limits, one parse, every value its steps read) against the same reads on a stdlib ``email.policy.default`` parse
(what the gateway did before), in ms per message and as a ratio; then messages/s over every
corpus input, the slowest single input (corpus and generated adversarial bodies), and the
same figures for email-reply-parser (MIT) on the same inputs as a same-process baseline.
Run: python bench/replies.py  (corpora: ../shared/corpora or HL_EMAIL_CORPORA). Printed
only; no thresholds.
"""

from __future__ import annotations

import email
import email.policy
import json
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hl_email.inbound.reading import read_message  # noqa: E402
from hl_email.limits import InboundLimits, check_inbound  # noqa: E402
from hl_email.replies import (  # noqa: E402
    classify_message,
    decide,
    decision_readings,
    extract_reply,
    extract_reply_from_message,
)
from hl_email.replies.authorize import sender_address  # noqa: E402
from hl_email.replies.match import (  # noqa: E402
    REF_LINE,
    body_ref_keys,
    candidate_keys,
)
from hl_email.replies.thread import answers_our_email  # noqa: E402

CORPORA = Path(
    os.environ.get("HL_EMAIL_CORPORA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
)


def corpus_inputs() -> tuple[list[str], list[bytes]]:
    """Plain-text bodies and raw messages from the corpora."""
    bodies: list[str] = []
    messages: list[bytes] = []
    trimmer = CORPORA / "discourse_email_reply_trimmer"
    for case in json.loads((trimmer / "expected.json").read_text())["fixtures"].values():
        bodies.append((trimmer / case["input"]).read_text(encoding="utf-8"))
    talon = CORPORA / "talon"
    expected = json.loads((talon / "expected.json").read_text())
    bodies.extend(case["input"] for case in expected["inline_cases"].values())
    for name in expected["fixtures"]:
        if name.endswith(".eml"):
            messages.append((talon / name).read_bytes())
    for path in sorted((CORPORA / "sisimai_bounces_dev" / "maildir").iterdir()):
        messages.append(path.read_bytes())
    return bodies, messages


def adversarial_inputs() -> dict[str, str]:
    quote_line = "> some quoted history line, with text in it\n"
    return {
        "1 MB quoted history (top-posted)": "Yes\n\nOn Mon, 1 Jan 2024, Bot <b@x.org> wrote:\n"
        + quote_line * (1_000_000 // len(quote_line)),
        "1 MB quoted history (bottom-posted)": "On Mon, 1 Jan 2024, Bot <b@x.org> wrote:\n"
        + quote_line * (1_000_000 // len(quote_line))
        + "\nApproved\n",
        "100k-line body": "\n".join(f"line {i} of plain text" for i in range(100_000)),
        "100k empty lines": "\n" * 100_000 + "yes",
        "1 MB single line": "x" * 1_000_000,
        "backtracking 'On … wrote' line": "On " + "a " * 200_000 + "wrote:",
        "20k 'On … wrote' lines": "\n".join(
            "On 1 Jan 2020, " + "x@y " * 30 + "wrote" for _ in range(20_000)
        ),
        "20k interleaved headers": "\n".join(
            "t\nOn 1 Jan 2020 a@b.c wrote:\n> q\nt\n> q" for _ in range(20_000)
        ),
        "20k wrapped mailto headers": "\n".join("<\nmailto:a@b.c\n> wrote:" for _ in range(20_000)),
        "100k mobile signatures": "\n".join("Sent from my iPhone" for _ in range(100_000)),
        "200k decision words": "yes " * 200_000,
        "200k negations": "not " * 200_000 + "approve",
        "20k header blocks (500 kB)": "\n".join(
            "From: x\nTo: y\nSubject: z" for _ in range(20_000)
        ),
    }


def dev_corpus_messages() -> list[bytes]:
    """The raw replies of tests/data/replies (written for hl-email)."""
    root = Path(__file__).resolve().parents[1] / "tests" / "data" / "replies"
    return [path.read_bytes() for path in sorted(root.glob("*.eml"))]


def adversarial_messages() -> dict[str, bytes]:
    """Raw messages that stress the HTML, charset and MIME recovery paths."""
    head = b"From: a@example.org\nSubject: Re: x\nContent-Type: "
    noise = bytes((i * 7919) % 128 + 128 for i in range(1_000_000))  # 8-bit, no newline
    return {
        "HTML 5k blockquotes under attributions": head
        + b"text/html\n\n"
        + b"<p>On 1 Jan 2024 a@b.c wrote:</p><blockquote>q</blockquote>" * 5000,
        "HTML 20k list items": head + b"text/html\n\n<ol>" + b"<li>item</li>" * 20_000,
        "HTML 300 nested lists": head + b"text/html\n\n" + b"<ul><li>x" * 300,
        "1 MB 8-bit text, no charset": head + b"text/plain\n\n" + noise,
        "1 MB 8-bit text labelled UTF-8": head + b"text/plain; charset=utf-8\n\n" + noise,
        "multipart, boundary missing, 30k parts": head
        + b"multipart/mixed\n\n"
        + b"--x\nContent-Type: text/plain\n\nhi\n" * 30_000,
    }


def measure(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ours_body(body: str) -> None:
    decide(extract_reply(body))


def ours_message(raw: bytes) -> None:
    # from raw bytes: read once by read_message (our parser's compat32 tree), the tree
    # passed to classification and extraction
    message = read_message(raw, _LIMITS).message
    classify_message(message)
    decide(extract_reply_from_message(message))


_LIMITS = InboundLimits()
_OUR_SUBJECT = "Approve refund of $40.00 for order 4711?"
_REPLY_KEY = "hl1-abcdefgh-1-aaaaaaaaaaaaaaaaaaaa"


def _reads(message, headers, default) -> str:  # type: ignore[no-untyped-def]
    """What the gateway reads from one message, in its order (gateway.py _handle_inbound):
    Message-ID, From, Subject, reply keys (else the body Ref: line), the classification, and
    for a human answer the sender, both extractions, the thread check, the decision and the
    readings every part must agree with."""
    for name in ("Message-ID", "From", "Subject"):
        value = headers.get(name)
        _ = str(value) if value is not None else None
    candidate_keys(headers) or body_ref_keys(default())
    kind = str(classify_message(message, thread_subject=_OUR_SUBJECT))
    if kind != "human":
        return kind
    sender_address(headers)
    text = REF_LINE.sub("", extract_reply_from_message(message, for_decision=True)).strip()
    REF_LINE.sub("", extract_reply_from_message(message)).strip()
    answers_our_email(default(), our_subject=_OUR_SUBJECT, reply_key=_REPLY_KEY)
    verdict = decide(text).verdict
    decision_readings(message)
    return verdict


def inbound_ours(raw: bytes) -> str:
    """The same reads through read_message, the receiver's one read (inbound/reading.py)."""
    mail = read_message(raw, _LIMITS)
    _ = mail.dedupe_key, mail.header("From"), mail.header("Subject"), mail.keys
    kind = mail.kind(_OUR_SUBJECT)
    if kind != "human":
        return kind
    _ = mail.sender
    text, _answer = mail.reply_texts
    mail.answers_our_email(our_subject=_OUR_SUBJECT, reply_key=_REPLY_KEY, approval_code=None)
    verdict = decide(text).verdict
    _ = mail.readings
    return verdict


def inbound_stdlib(raw: bytes) -> str:
    """What the gateway did before: the limits, a stdlib policy.default parse, its reads."""
    check_inbound(raw, _LIMITS)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return _reads(msg, msg, lambda: msg)


def _interleaved_ms(
    ours: Callable[[bytes], object],
    stdlib: Callable[[bytes], object],
    messages: list[bytes],
    rounds: int,
) -> tuple[list[float], list[float]]:
    """Per-message times (ms) of both, one right after the other on each message, the best
    of ``rounds`` for each."""
    best_ours = [float("inf")] * len(messages)
    best_stdlib = [float("inf")] * len(messages)
    for _ in range(rounds):
        for index, raw in enumerate(messages):
            best_ours[index] = min(best_ours[index], measure(lambda raw=raw: ours(raw)) * 1000)
            best_stdlib[index] = min(
                best_stdlib[index], measure(lambda raw=raw: stdlib(raw)) * 1000
            )
    return best_ours, best_stdlib


def _stdlib_parse(raw: bytes) -> object:
    check_inbound(raw, _LIMITS)
    return email.message_from_bytes(raw, policy=email.policy.default)


def _read_only(raw: bytes) -> object:
    return read_message(raw, _LIMITS)


def inbound_path(messages: list[bytes], rounds: int = 5) -> None:
    """read_message (limits + one parse + the reads, the receiver's path) vs the limits and a
    stdlib policy.default parse with the same reads (the gateway before), interleaved."""
    outcomes = [inbound_stdlib(raw) for raw in messages]
    same = sum(
        inbound_ours(raw) == outcome for raw, outcome in zip(messages, outcomes, strict=True)
    )
    human = [
        i
        for i, outcome in enumerate(outcomes)
        if outcome in ("approve", "reject", "unclear", "answer")
    ]
    other = [i for i in range(len(messages)) if i not in set(human)]
    print(
        f"inbound path, {len(messages)} raw messages ({len(human)} human answers), best of "
        f"{rounds} per message; same outcome (kind or verdict) both ways: {same}/{len(messages)}"
    )
    print(f"  {'ms per message':50} {'read_message':>12} {'stdlib default':>15} {'ratio':>7}")
    parse_ours, parse_stdlib = _interleaved_ms(_read_only, _stdlib_parse, messages, rounds)
    path_ours, path_stdlib = _interleaved_ms(inbound_ours, inbound_stdlib, messages, rounds)
    rows = (
        ("parse only, all messages", parse_ours, parse_stdlib, range(len(messages))),
        ("parse + the gateway's reads, all messages", path_ours, path_stdlib, range(len(messages))),
        ("  human answers", path_ours, path_stdlib, human),
        ("  other mail (auto-replies, bounces, lists)", path_ours, path_stdlib, other),
    )
    for label, ours_ms, stdlib_ms, picked in rows:
        if not picked:
            continue
        for stat, pick in (("p50", statistics.median), ("mean", statistics.fmean)):
            a = pick([ours_ms[i] for i in picked])
            b = pick([stdlib_ms[i] for i in picked])
            print(f"  {label + ' (' + stat + ')':50} {a:12.3f} {b:15.3f} {b / a:6.2f}x")


def ours_message_stdlib(raw: bytes) -> None:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    classify_message(message)
    decide(extract_reply_from_message(message))


def _baseline_in_child(body: str) -> float:
    from email_reply_parser import EmailReplyParser

    return measure(lambda: EmailReplyParser.parse_reply(body))


def baseline_with_timeout(body: str, seconds: float = 20.0) -> float:
    """email-reply-parser time for one input in a child process (its regexes can hang)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result = pool.apply_async(_baseline_in_child, (body,))
        try:
            return result.get(timeout=seconds)
        except multiprocessing.TimeoutError:
            pool.terminate()
            return float("inf")


def main() -> None:
    try:
        from email_reply_parser import EmailReplyParser
    except ImportError:  # pragma: no cover - optional baseline
        EmailReplyParser = None  # noqa: N806
        print("email-reply-parser not installed: pip install email-reply-parser (MIT)")

    bodies, messages = corpus_inputs()
    count = len(bodies) + len(messages)
    inbound_path(messages + dev_corpus_messages())
    print()
    for _ in range(2):  # warm-up (regex compilation, imports)
        for body in bodies:
            ours_body(body)
    rounds = 5
    start = time.perf_counter()
    worst_ours = (0.0, "")
    for _ in range(rounds):
        for index, body in enumerate(bodies):
            elapsed = measure(lambda body=body: ours_body(body))
            worst_ours = max(worst_ours, (elapsed, f"body #{index}"))
        for index, raw in enumerate(messages):
            elapsed = measure(lambda raw=raw: ours_message(raw))
            worst_ours = max(worst_ours, (elapsed, f"message #{index}"))
    ours_rate = count * rounds / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(rounds):
        for body in bodies:
            ours_body(body)
        for raw in messages:
            ours_message_stdlib(raw)
    stdlib_rate = count * rounds / (time.perf_counter() - start)
    parsed = [email.message_from_bytes(raw, policy=email.policy.compat32) for raw in messages]
    start = time.perf_counter()
    for _ in range(rounds):
        for body in bodies:
            ours_body(body)
        for message in parsed:
            classify_message(message)
            decide(extract_reply_from_message(message))
    preparsed_rate = count * rounds / (time.perf_counter() - start)
    print(f"corpus: {len(bodies)} bodies + {len(messages)} raw messages")
    print(
        f"hl_email.replies   extract+classify+decide, from raw bytes:        {ours_rate:8,.0f} msg/s"
    )
    print(
        f"hl_email.replies   the same, stdlib compat32 parser instead:       {stdlib_rate:8,.0f} msg/s"
    )
    print(
        f"hl_email.replies   extract+classify+decide, messages pre-parsed:   {preparsed_rate:8,.0f} msg/s"
    )
    print(f"  slowest corpus input: {worst_ours[0] * 1000:.2f} ms ({worst_ours[1]})")
    dev = dev_corpus_messages()
    if dev:
        start = time.perf_counter()
        for _ in range(rounds):
            for raw in dev:
                ours_message(raw)
        dev_rate = len(dev) * rounds / (time.perf_counter() - start)
        print(
            f"hl_email.replies   the same over tests/data/replies ({len(dev)} raw): "
            f"{dev_rate:8,.0f} msg/s"
        )

    if EmailReplyParser is not None:
        texts = bodies + [
            extract_reply_from_message(raw, strip_signatures=False) for raw in messages
        ]
        start = time.perf_counter()
        for _ in range(rounds):
            for text in texts:
                EmailReplyParser.parse_reply(text)
        base_rate = len(texts) * rounds / (time.perf_counter() - start)
        print(f"email-reply-parser parse_reply only:        {base_rate:10,.0f} messages/s")
        print(f"  ratio ours/baseline: {ours_rate / base_rate:.2f}x")

    print("\nadversarial inputs (single run each, ms):")
    print(f"  {'input':42} {'size':>10} {'ours':>9} {'email-reply-parser':>19}")
    worst = (0.0, "")
    for name, body in adversarial_inputs().items():
        ours = measure(lambda body=body: ours_body(body)) * 1000
        worst = max(worst, (ours, name))
        base = baseline_with_timeout(body) * 1000 if EmailReplyParser is not None else float("nan")
        shown = f"{base:19.1f}" if base != float("inf") else f"{'> 20 s (killed)':>19}"
        print(f"  {name:42} {len(body):>10,} {ours:9.1f} {shown}")
    print("\nadversarial raw messages (single run each, ms):")
    for name, raw in adversarial_messages().items():
        ours = measure(lambda raw=raw: ours_message(raw)) * 1000
        worst = max(worst, (ours, name))
        print(f"  {name:42} {len(raw):>10,} {ours:9.1f}")
    print(f"worst single input (ours): {worst[0]:.1f} ms ({worst[1]})")


if __name__ == "__main__":
    main()
