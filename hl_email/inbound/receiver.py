"""The inbound receiver: walks one message through limits → parse → classify → match →
authorize → extract → decide → resolve, and stores an outcome for every message."""

from __future__ import annotations

import asyncio
import hashlib
import logging

from ..core.outcomes import (
    AlreadyAnswered,
    BadKey,
    DmarcFailed,
    InboundOutcome,
    Malformed,
    Outcome,
    Refusal,
    Retry,
    SenderInvalid,
    SenderMismatch,
    UnknownKey,
    not_human_answer,
)
from ..core.resolve import person
from ..core.tokens import ReplyKey, verify_reply_key
from ..limits import InboundLimits, LimitRefusal
from ..models import ResponseOption
from ..replies import Decision, MessageKind, decide
from ..routing import may_answer
from ..store import CommitResult, InboundRecord, RecipientRow, RequestRow
from .answers import Answers
from .host import InboundHost, commit, lookup_key
from .mail import RAW_KEEP_BYTES, audit_copy, raw_header
from .mail_kinds import AgentInbox, auto_reply, bounce
from .reading import InboundMail, read_message_off_loop
from .verdicts import (
    NOT_OUR_THREAD,
    OUR_EMAILS_COMPARED,
    comment_from_answer,
    edited_quote,
    every_reading_approves,
    never_approves,
    sent_texts,
)

__all__ = ["Receiver"]

log = logging.getLogger("hl_email.gateway")


class Receiver:
    """One gateway's inbound path; every message ends in a stored outcome, input never raises."""

    def __init__(self, host: InboundHost) -> None:
        self.host = host
        self.answers = Answers(host)
        self.agent_inbox = AgentInbox(host)

    async def handle_inbound(self, raw: bytes) -> InboundOutcome:
        """Walk one inbound message through classify → match → authorize → extract → decide.

        Every message ends in a stored outcome; input problems never raise. Runs without a
        lock: each commit is versioned, and a conflict means read the request again and redo.
        """
        mail = await read_message_off_loop(raw, self.limits())  # the one parse
        if mail.refusal is not None:
            return await self.refuse_unparsed(raw, mail.refusal)
        try:
            for _ in range(5):
                try:
                    return await self.walk(mail)
                except Retry:
                    # Another writer (a second gateway on the same store) changed the
                    # request meanwhile: read it again and redo the decision.
                    continue
            raise RuntimeError("the request kept changing while this reply was processed")
        except Exception as exc:
            # A bug must not stop the watcher, nor be lost: record it and move on.
            log.exception("inbound processing failed")
            key = "sha256:" + hashlib.sha256(raw).hexdigest()
            record = InboundRecord(
                dedupe_key=key + ":error",
                message_id=None,
                received_at=self.host.clock(),
                from_address=None,
                subject=None,
                outcome=Outcome.ERROR,
                detail=f"{type(exc).__name__}: {exc}"[:1000],
                raw=raw[:RAW_KEEP_BYTES],
            )
            try:
                await self.host.store.commit(inbound=record)
            except Exception:
                log.exception("could not record the failure")
            return InboundOutcome(Outcome.ERROR, record.detail)

    def limits(self) -> InboundLimits:
        """The [inbound] limits checked before a message is parsed."""
        limits = self.host.config.inbound
        return InboundLimits(
            max_message_bytes=limits.max_message_bytes,
            max_header_bytes=limits.max_header_bytes,
            max_parts=limits.max_parts,
            max_depth=limits.max_depth,
            max_references=limits.max_references,
        )

    async def refuse_unparsed(self, raw: bytes, refusal: LimitRefusal) -> InboundOutcome:
        """A message over an [inbound] limit: recorded (headers only), never parsed."""
        dedupe_key = "sha256:" + hashlib.sha256(raw).hexdigest()
        if await self.host.store.inbound_seen(dedupe_key):
            return InboundOutcome(Outcome.DUPLICATE, f"already processed {dedupe_key}")
        record = InboundRecord(
            dedupe_key=dedupe_key,
            message_id=None,
            received_at=self.host.clock(),
            from_address=raw_header(raw, b"From"),
            subject=raw_header(raw, b"Subject"),
            outcome=refusal.outcome,
            detail=refusal.detail,
            raw=raw[:65536],
        )
        try:
            await self.host.store.commit(inbound=record)
        except Exception:
            log.exception("could not record a refused message")
        log.warning("inbound message refused before parsing: %s", refusal.detail)
        return InboundOutcome(refusal.outcome, refusal.detail)

    async def walk(self, mail: InboundMail) -> InboundOutcome:
        """One pass over a read message; a Refusal anywhere ends it in its stored outcome."""
        now = self.host.clock()
        dedupe_key, message_id = mail.dedupe_key, mail.message_id
        if await self.host.store.inbound_seen(dedupe_key):
            return InboundOutcome(
                Outcome.DUPLICATE, f"already processed {message_id or dedupe_key}"
            )
        record = InboundRecord(
            dedupe_key=dedupe_key,
            message_id=message_id,
            received_at=now,
            from_address=mail.header("From"),
            subject=mail.header("Subject"),
            outcome="",
            raw=audit_copy(mail.raw),
        )
        try:
            if mail.parse_error is not None:
                raise Malformed(f"cannot parse message: {mail.parse_error}")
            return await self.classify_and_match(mail, record)
        except Refusal as refusal:
            # Recorded, and nothing else changes.
            record.outcome = str(refusal.outcome)
            record.detail = refusal.detail
            if not await commit(self.host.store, inbound=record):
                return InboundOutcome(Outcome.DUPLICATE, "processed concurrently")
            return InboundOutcome(record.outcome, refusal.detail)

    async def classify_and_match(self, mail: InboundMail, record: InboundRecord) -> InboundOutcome:
        """Classify (bounce, automatic, agent-inbox mail, reply) and match the reply key."""
        # Our own subject ("Vacation request", "Parcel not delivered") must not make a reply in
        # our thread look automatic, so the classifier learns the thread's subject.
        # One lookup serves classification and matching. The body `Ref:` line (from our mailto
        # buttons) counts only for human answers, never to tie automatic mail to a request.
        header_keys = mail.header_keys
        keys = mail.keys
        target = await lookup_key(self.host.store, keys)
        kind = mail.kind(target[0].subject if target else None)
        if kind == MessageKind.BOUNCE:
            return await bounce(self.host, mail, record)
        if kind != MessageKind.HUMAN:
            if header_keys and target is not None:
                record.request_id, record.recipient_seq = target[0].id, target[1].seq
                if kind == MessageKind.AUTO_REPLY:
                    return await auto_reply(self.host, mail, record, target[0], target[1])
            raise not_human_answer(kind)
        sender, why = mail.sender
        if not keys:
            return await self.agent_inbox.handle(mail, record, sender, why)
        if target is None:
            raise UnknownKey(f"reply key {keys[0]} matches no request")
        request, recipient, recipients = target
        record.request_id, record.recipient_seq = request.id, recipient.seq
        key = self.match_key(keys, request, recipient)
        if sender is None:
            raise SenderInvalid(why)
        responder = self.authorize(mail, sender, request, recipient, recipients)
        if request.state != "pending":
            return await self.answers.late(request, responder, mail, record)
        me = person(sender)
        if any(person(v.get("address", "")) == me for v in request.status.get("responders") or []):
            raise AlreadyAnswered(f"{sender} has already answered")
        return await self.read(mail, record, request, recipient, responder, recipients, key)

    def match_key(
        self, keys: list[ReplyKey], request: RequestRow, recipient: RecipientRow
    ) -> ReplyKey:
        """The key that named this request and recipient, if its signature is ours."""
        key = next(
            k for k in keys if k.request_id == request.id and k.recipient_seq == recipient.seq
        )
        if not verify_reply_key(self.host.config.security.secret, key, recipient.address):
            raise BadKey(f"reply key {key} has an invalid signature")
        return key

    def authorize(
        self,
        mail: InboundMail,
        sender: str,
        request: RequestRow,
        recipient: RecipientRow,
        recipients: list[RecipientRow],
    ) -> RecipientRow:
        """The one who answered, if they may (route responders, DMARC); refused otherwise."""
        responders = request.route.get("responders") or []
        if responders:
            # Listed responders, plus anyone the request was sent to (escalation recipients and
            # out-of-office delegates are asked by the route, so they may answer too).
            addresses = [r.address for r in recipients if r.state != "failed"]
            if not (sender in addresses or may_answer(responders, addresses, sender)):
                raise SenderMismatch(
                    f"{sender} is not among those who may answer ({', '.join(responders)})"
                )
        elif sender != recipient.address:
            raise SenderMismatch(
                f"reply from {sender}, but this reply key belongs to {recipient.address}"
            )
        trusted = self.host.config.security.trusted_authserv_id
        if trusted:
            auth = mail.dmarc(trusted, sender)
            if not auth.ok:
                raise DmarcFailed(auth.reason)
        # The bound recipient, another recipient, or (with route responders) someone else
        # allowed, who then joins the thread as a recipient.
        responder = next((r for r in recipients if r.address == sender), None)
        if responder is not None:
            return responder
        return RecipientRow(
            request.id,
            max(r.seq for r in recipients) + 1,
            sender,
            field="responder",
            state="sent",
            thread=list(recipient.thread),
            message_count=0,
        )

    async def read(
        self,
        mail: InboundMail,
        record: InboundRecord,
        request: RequestRow,
        recipient: RecipientRow,
        responder: RecipientRow,
        recipients: list[RecipientRow],
        key: ReplyKey,
    ) -> InboundOutcome:
        """Extract and decide, then resolve: the answer counts, or the person is asked again."""
        text, answer = mail.reply_texts
        approval = request.kind == "function_call"
        spec = request.spec
        options = [
            ResponseOption.model_validate(o)
            for o in (
                (spec.get("reject_options") if approval else spec.get("response_options")) or []
            )
        ]
        code = self.answers.approval_code(request, recipient)
        if not mail.answers_our_email(
            our_subject=request.subject, reply_key=str(key), approval_code=code
        ):
            # A learned reply key on an unrelated email ("Yes, sounds good!") never decides.
            decision = Decision("unclear", reason=NOT_OUR_THREAD)
            return await self.answers.ask_again(
                request, responder, mail, record, text, decision, options, in_thread=False
            )
        decision = self.decide(mail, request, text, answer, options, code)
        if decision.verdict == "approve":
            decision = edited_quote(decision, mail.full_text, await self._our_texts(recipient))
        if decision.verdict == "unclear" or (
            approval and decision.verdict not in ("approve", "reject")
        ):
            return await self.answers.ask_again(
                request, responder, mail, record, text, decision, options
            )
        return await self.answers.apply(
            request, responder, responder.address, recipients, mail, record, text, decision, options
        )

    async def _our_texts(self, recipient: RecipientRow) -> list[str]:
        """The plain and formatted texts of the emails we sent this recipient (the newest
        few), to compare the quote of them with (inbound/verdicts.py edited_quote)."""
        rows = await self.host.store.outbox_for_request(recipient.request_id)
        mine = [r for r in rows if r.recipient_seq == recipient.seq][-OUR_EMAILS_COMPARED:]
        return [text for row in mine for text in sent_texts(row.message)]

    def decide(
        self,
        mail: InboundMail,
        request: RequestRow,
        text: str,
        answer: str,
        options: list[ResponseOption],
        code: str | None,
    ) -> Decision:
        """The decide step: the closed grammar, every part agreeing, the agent's comment."""
        kind = "approval" if request.kind == "function_call" else "question"
        # issue 9: the closed grammar reads the whole new text (signatures kept); numbers are
        # checked against the call's arguments; a code route needs the approval code
        read_as = {"arguments": request.spec.get("kwargs") or {}, "approval_code": code}
        decision = decide(
            text,
            kind=kind,
            options=options,
            classifier=never_approves(self.host.classifier),
            **read_as,
        )
        if decision.verdict == "approve":
            decision = every_reading_approves(decision, mail.readings, text, options, read_as)
        return comment_from_answer(decision, text, answer, kind, options, read_as)

    async def record_unfetched(
        self, heads: list[tuple[bytes, int, bool]]
    ) -> list[InboundOutcome | None]:
        """Headers first (inbound/triage.py): for each (header block, size, body search hit),
        the outcome stored without the body, "duplicate" for a message already recorded, or
        None when the body must be fetched and walk `handle_inbound`."""
        from .triage import read_headers, unfetched_kind, within_limits

        limits = self.limits()
        views = [(read_headers(block), size, hit) for block, size, hit in heads]
        trusted = [v.dedupe_key for v, size, _ in views if within_limits(v, size, limits)]
        seen = await self.host.store.inbound_seen_keys([k for k in trusted if k])
        results: list[InboundOutcome | None] = []
        records: dict[int, InboundRecord] = {}
        for view, size, hit in views:
            kind = None if view.dedupe_key in seen else unfetched_kind(view, size, limits, hit)
            if view.dedupe_key in seen and view.dedupe_key in trusted:
                results.append(
                    InboundOutcome(Outcome.DUPLICATE, f"already processed {view.message_id}")
                )
            elif kind is None or view.dedupe_key is None:
                results.append(None)
            else:
                records[len(results)] = InboundRecord(
                    dedupe_key=view.dedupe_key,
                    message_id=view.message_id,
                    received_at=self.host.clock(),
                    from_address=view.header("From"),
                    subject=view.header("Subject"),
                    outcome=str(kind),
                    detail=f"not a human answer ({kind}); ignored",
                    raw=view.block,  # the body was not fetched: the headers are the audit copy
                )
                results.append(None)
        # One commit each, all at once: the store groups them into one transaction (each its
        # own savepoint, so a duplicate Message-ID in the chunk fails alone, as "duplicate").
        done = await asyncio.gather(*(self.host.store.commit(inbound=r) for r in records.values()))
        for (i, record), result in zip(records.items(), done, strict=True):
            ok = result is CommitResult.OK
            results[i] = InboundOutcome(record.outcome if ok else Outcome.DUPLICATE, record.detail)
        return results
