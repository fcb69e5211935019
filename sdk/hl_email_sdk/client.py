"""AsyncHumanLayer and its sync twin HumanLayer: one async core, two transports."""

from __future__ import annotations

import functools
import inspect
import os
import re
import secrets
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from hl_email.models import (
    ContactChannel,
    EmailPayload,
    Escalation,
    FunctionCall,
    FunctionCallSpec,
    FunctionCallStatus,
    HumanContact,
    HumanContactSpec,
    HumanContactStatus,
    ResponseOption,
)

from .errors import (
    DeliveryFailedError,
    HumanLayerException,
    HumanLayerTimeoutError,
    RequestCancelledError,
)
from .transport import LocalTransport, Transport

__all__ = ["AsyncHumanLayer", "HumanLayer"]

T = TypeVar("T")


def genid(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "agent"


def _check_unique(options: list[ResponseOption] | None, what: str) -> None:
    if options:
        names = [o.name for o in options]
        if len(names) != len(set(names)):
            raise HumanLayerException(f"{what} must have unique names")


def _tool_name(contact_channel: ContactChannel | None) -> tuple[str, str]:
    if contact_channel is not None and contact_channel.email is not None:
        ctx = re.sub(r"[^a-zA-Z0-9]+", "_", contact_channel.email.address)
        ctx = re.sub(r"_+", "_", ctx).strip("_")
        doc = "Contact a human via email and wait for a response"
        if contact_channel.email.context_about_user:
            doc += f" ({contact_channel.email.context_about_user})"
        return f"contact_human_via_email_{ctx}", doc
    return "contact_human", "contact a human"


class AsyncHumanLayer:
    """The HumanLayer 0.7.x method set over email. Use `AsyncHumanLayer.local(config=...)` for an
    in-process gateway, or `AsyncHumanLayer(api_base_url=..., api_key=...)` for a remote one."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_base_url: str | None = None,
        run_id: str | None = None,
        agent_name: str | None = None,
        contact_channel: ContactChannel | None = None,
        timeout: float | None = None,
        verbose: bool = False,
        transport: Transport | None = None,
        genid: Callable[[str], str] = genid,
        cancel_on_timeout: bool = True,
    ) -> None:
        if transport is None:
            base = api_base_url or os.getenv("HUMANLAYER_API_BASE")
            key = api_key or os.getenv("HUMANLAYER_API_KEY")
            if not base:
                raise HumanLayerException(
                    "no gateway: use AsyncHumanLayer.local(config=...) for an in-process gateway, "
                    "or pass api_base_url= (or set HUMANLAYER_API_BASE) for `hl-email serve`"
                )
            from .http import HttpTransport

            transport = HttpTransport(base, key)
        self.transport = transport
        self.genid = genid
        self.agent_name = agent_name
        self.run_id = (
            run_id or os.getenv("HUMANLAYER_RUN_ID") or genid(_slug(agent_name or "agent"))
        )
        self.contact_channel = contact_channel
        self.timeout = timeout
        # A wait that times out cancels its request, so a late answer cannot tell the human
        # "the agent will go ahead" when nobody is waiting any more.
        self.cancel_on_timeout = cancel_on_timeout
        self.verbose = verbose
        self._started = False

    @classmethod
    def local(
        cls,
        config: Any = None,
        *,
        run_id: str | None = None,
        agent_name: str | None = None,
        contact_channel: ContactChannel | None = None,
        timeout: float | None = None,
        verbose: bool = False,
        gateway: Any = None,
        cancel_on_timeout: bool = True,
    ) -> AsyncHumanLayer:
        """A client with the gateway in this process. `config` is a TOML path or a GatewayConfig;
        use it as `async with AsyncHumanLayer.local(config="hl-email.toml") as hl:`."""
        transport = LocalTransport(config, gateway=gateway)
        return cls(
            run_id=run_id,
            agent_name=agent_name,
            contact_channel=contact_channel,
            timeout=timeout,
            verbose=verbose,
            transport=transport,
            cancel_on_timeout=cancel_on_timeout,
        )

    async def start(self) -> None:
        if not self._started:
            await self.transport.start()
            self._started = True

    async def close(self) -> None:
        if self._started:
            self._started = False
            await self.transport.close()

    async def __aenter__(self) -> AsyncHumanLayer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the agent inbox (outer loop) --------------------------------------------------------------

    def _local_gateway(self) -> Any:
        gateway = getattr(self.transport, "gateway", None)
        if gateway is None:
            raise HumanLayerException(
                "on_email needs the in-process gateway (AsyncHumanLayer.local); with a remote "
                "gateway, subscribe a [[webhooks]] url to agent_email.received instead"
            )
        return gateway

    def on_email(self, handler: Callable[[EmailPayload], Any]) -> Callable[[], None]:
        """Call `handler(payload)` (sync or async) for every new email to the agent that answers
        no request and comes from an allowed sender; returns an unsubscribe function."""
        return self._local_gateway().on_email(handler)

    def emails(self) -> AsyncIterator[EmailPayload]:
        """`async for email in hl.emails():` the same stream as on_email."""
        return self._local_gateway().agent_emails()

    # -- the decorator and the tool -------------------------------------------------------------

    def require_approval(
        self,
        contact_channel: ContactChannel | None = None,
        reject_options: list[ResponseOption] | None = None,
        *,
        timeout: float | None = None,
        cancel_on_timeout: bool | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]]]:
        """Gate a sync or async function on a human's approval by email.

        Approved: the function runs and its result is returned. Denied: returns
        `User denied {fn} with message: {comment}` for the LLM. No answer in time or a delivery
        failure: returns `Error fetching approval for {fn}: …` and the function does not run.
        """
        _check_unique(reject_options, "reject_options")

        def decorator(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
            @functools.wraps(fn)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                channel = contact_channel or self.contact_channel
                try:
                    completed = await self.fetch_approval(
                        FunctionCallSpec(
                            fn=fn.__name__,
                            kwargs=_display_kwargs(fn, args, kwargs),
                            description=inspect.getdoc(fn),
                            channel=channel,
                            reject_options=reject_options,
                        ),
                        timeout=timeout,
                        cancel_on_timeout=cancel_on_timeout,
                    )
                    response = completed.as_completed()
                except Exception as exc:
                    return f"Error fetching approval for {fn.__name__}: {exc}"
                if response.approved is True:
                    if self.verbose:
                        print(f"hl-email: human approved {fn.__name__}")
                    result = fn(*args, **kwargs)
                    if inspect.isawaitable(result):
                        result = await result
                    return result
                if self.verbose:
                    print(f"hl-email: human denied {fn.__name__} with message: {response.comment}")
                return f"User denied {fn.__name__} with message: {response.comment}"

            return wrapper

        return decorator

    def human_as_tool(
        self,
        contact_channel: ContactChannel | None = None,
        response_options: list[ResponseOption] | None = None,
        *,
        timeout: float | None = None,
        cancel_on_timeout: bool | None = None,
    ) -> Callable[..., Awaitable[str]]:
        """A tool an LLM can call to ask a human by email; returns the human's answer text."""
        _check_unique(response_options, "response_options")
        channel = contact_channel or self.contact_channel

        async def contact_human(message: str, subject: str | None = None) -> str:
            if channel is not None and channel.email is not None and channel.email.subject:
                subject = channel.email.subject  # the thread's subject keeps the reply in-thread
            completed = await self.fetch_human_response(
                HumanContactSpec(
                    msg=message, subject=subject, channel=channel, response_options=response_options
                ),
                timeout=timeout,
                cancel_on_timeout=cancel_on_timeout,
            )
            return completed.as_completed()

        name, doc = _tool_name(channel)
        contact_human.__name__ = contact_human.__qualname__ = name
        contact_human.__doc__ = doc
        return contact_human

    # -- HumanLayer's method set ------------------------------------------------------------------

    async def fetch_approval(
        self,
        spec: FunctionCallSpec,
        *,
        timeout: float | None = None,
        call_id: str | None = None,
        cancel_on_timeout: bool | None = None,
    ) -> FunctionCall.Completed:
        if spec.channel is None:
            spec.channel = self.contact_channel
        call = await self.create_function_call(spec, call_id=call_id)
        if self.verbose:
            print(f"hl-email: waiting for approval of {spec.fn} ({call.call_id})")
        return await self.wait_for_approval(
            call.call_id, timeout=timeout, cancel_on_timeout=cancel_on_timeout
        )

    async def wait_for_approval(
        self, call_id: str, *, timeout: float | None = None, cancel_on_timeout: bool | None = None
    ) -> FunctionCall.Completed:
        """Wait on an existing call (e.g. after a restart); returns at once if already answered.

        When `timeout` runs out the call is cancelled (unless `cancel_on_timeout=False`); an
        answer that arrived just before the cancel still counts."""
        await self.start()
        effective = timeout if timeout is not None else self.timeout
        try:
            call = await self.transport.wait_function_call(call_id, effective)
        except TimeoutError:
            call = await self._cancel_after_timeout("function_call", call_id, cancel_on_timeout)
            if call is None:
                raise HumanLayerTimeoutError(
                    f"no approval for {call_id} within {effective:g} s; the function was not run"
                    + self._cancel_note(cancel_on_timeout)
                ) from None
        status = call.status
        if status is not None and status.cancelled:
            raise RequestCancelledError(f"{call_id} was {status.error or 'cancelled'}")
        if status is not None and status.error:
            raise DeliveryFailedError(status.error)
        if status is None or status.approved is None:
            raise HumanLayerException(f"{call_id} ended without a decision")
        return FunctionCall.Completed(call=call)

    def _cancel_note(self, cancel_on_timeout: bool | None) -> str:
        cancel = self.cancel_on_timeout if cancel_on_timeout is None else cancel_on_timeout
        return " (the request is cancelled)" if cancel else " (the request stays open)"

    async def _cancel_after_timeout(
        self, kind: str, call_id: str, cancel_on_timeout: bool | None
    ) -> Any:
        """Cancel a timed-out call; the call itself when it was decided meanwhile, else None."""
        cancel = self.cancel_on_timeout if cancel_on_timeout is None else cancel_on_timeout
        if not cancel:
            return None
        from hl_email.errors import RequestInvalidError

        fc = kind == "function_call"
        try:
            if fc:
                await self.transport.cancel_function_call(call_id, "the agent stopped waiting")
            else:
                await self.transport.cancel_human_contact(call_id, "the agent stopped waiting")
            return None
        except RequestInvalidError:
            # Decided between the timeout and the cancel: that decision stands.
            obj = await (
                self.transport.get_function_call(call_id)
                if fc
                else self.transport.get_human_contact(call_id)
            )
            status = obj.status
            if status is not None and (
                (fc and status.approved is not None) or (not fc and status.response is not None)
            ):
                return obj
            return None

    async def fetch_human_response(
        self,
        spec: HumanContactSpec,
        *,
        timeout: float | None = None,
        call_id: str | None = None,
        cancel_on_timeout: bool | None = None,
    ) -> HumanContact.Completed:
        if spec.channel is None:
            spec.channel = self.contact_channel
        contact = await self.create_human_contact(spec, call_id=call_id)
        return await self.wait_for_human_response(
            contact.call_id, timeout=timeout, cancel_on_timeout=cancel_on_timeout
        )

    async def wait_for_human_response(
        self, call_id: str, *, timeout: float | None = None, cancel_on_timeout: bool | None = None
    ) -> HumanContact.Completed:
        await self.start()
        effective = timeout if timeout is not None else self.timeout
        try:
            contact = await self.transport.wait_human_contact(call_id, effective)
        except TimeoutError:
            contact = await self._cancel_after_timeout("human_contact", call_id, cancel_on_timeout)
            if contact is None:
                raise HumanLayerTimeoutError(
                    f"no response to {call_id} within {effective:g} s"
                    + self._cancel_note(cancel_on_timeout)
                ) from None
        status = contact.status
        if status is not None and status.cancelled:
            raise RequestCancelledError(f"{call_id} was {status.error or 'cancelled'}")
        if status is not None and status.error:
            raise DeliveryFailedError(status.error)
        if status is None or status.response is None:
            raise HumanLayerException(f"{call_id} ended without a response")
        return HumanContact.Completed(contact=contact)

    async def create_function_call(
        self, spec: FunctionCallSpec, call_id: str | None = None
    ) -> FunctionCall:
        await self.start()
        if spec.channel is None:
            spec.channel = self.contact_channel
        call = FunctionCall(run_id=self.run_id, call_id=call_id or self.genid("call"), spec=spec)
        return await self.transport.create_function_call(call)

    async def get_function_call(self, call_id: str) -> FunctionCall:
        await self.start()
        return await self.transport.get_function_call(call_id)

    async def respond_to_function_call(
        self, call_id: str, status: FunctionCallStatus
    ) -> FunctionCall:
        await self.start()
        return await self.transport.respond_to_function_call(call_id, status)

    async def escalate_email_function_call(
        self, call_id: str, escalation: Escalation
    ) -> FunctionCall:
        await self.start()
        return await self.transport.escalate_email_function_call(call_id, escalation)

    async def cancel_function_call(self, call_id: str, reason: str = "") -> FunctionCall:
        """Withdraw a pending approval request: the people asked are told it is no longer
        needed, and a later answer changes nothing. A no-op when it is already cancelled."""
        await self.start()
        return await self.transport.cancel_function_call(call_id, reason)

    async def create_human_contact(
        self, spec: HumanContactSpec, call_id: str | None = None
    ) -> HumanContact:
        await self.start()
        if spec.channel is None:
            spec.channel = self.contact_channel
        contact = HumanContact(run_id=self.run_id, call_id=call_id or self.genid("call"), spec=spec)
        return await self.transport.create_human_contact(contact)

    async def get_human_contact(self, call_id: str) -> HumanContact:
        await self.start()
        return await self.transport.get_human_contact(call_id)

    async def respond_to_human_contact(
        self, call_id: str, status: HumanContactStatus
    ) -> HumanContact:
        await self.start()
        return await self.transport.respond_to_human_contact(call_id, status)

    async def escalate_email_human_contact(
        self, call_id: str, escalation: Escalation
    ) -> HumanContact:
        await self.start()
        return await self.transport.escalate_email_human_contact(call_id, escalation)

    async def cancel_human_contact(self, call_id: str, reason: str = "") -> HumanContact:
        """Withdraw a pending question (see cancel_function_call)."""
        await self.start()
        return await self.transport.cancel_human_contact(call_id, reason)


def _display_kwargs(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """What the human sees: positional arguments named by the signature, then keywords."""
    if not args:
        return dict(kwargs)
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
        return dict(bound.arguments)
    except (TypeError, ValueError):
        return {**{f"arg{i}": a for i, a in enumerate(args)}, **kwargs}


class _LoopThread:
    """A private event loop on a daemon thread: the sync twin runs the async core there."""

    def __init__(self) -> None:
        import asyncio  # here, not at import: `import hl_email_sdk` stays cheap (bench/startup.py)

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="hl-email-sdk", daemon=True
        )
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            raise HumanLayerException("sync HumanLayer called from its own event loop thread")
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
        if not self.loop.is_running():
            self.loop.close()


class HumanLayer:
    """The sync twin of AsyncHumanLayer: same core, run on a background event loop."""

    def __init__(
        self,
        *,
        _core: AsyncHumanLayer | None = None,
        _loop: _LoopThread | None = None,
        **kwargs: Any,
    ) -> None:
        self._loop = _loop or _LoopThread()
        if _core is None:

            async def make() -> AsyncHumanLayer:
                return AsyncHumanLayer(**kwargs)

            _core = self._loop.run(make())
        self._core = _core

    @classmethod
    def local(cls, config: Any = None, **kwargs: Any) -> HumanLayer:
        """`with HumanLayer.local(config="hl-email.toml") as hl:` runs the gateway on a thread."""
        loop = _LoopThread()

        async def make() -> AsyncHumanLayer:
            return AsyncHumanLayer.local(config, **kwargs)

        return cls(_core=loop.run(make()), _loop=loop)

    @property
    def run_id(self) -> str:
        return self._core.run_id

    @property
    def contact_channel(self) -> ContactChannel | None:
        return self._core.contact_channel

    def start(self) -> None:
        self._loop.run(self._core.start())

    def close(self) -> None:
        try:
            self._loop.run(self._core.close())
        finally:
            self._loop.stop()

    def __enter__(self) -> HumanLayer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def on_email(self, handler: Callable[[EmailPayload], Any]) -> Callable[[], None]:
        """Like AsyncHumanLayer.on_email; the handler runs on the gateway's loop thread."""

        async def register() -> Callable[[], None]:
            return self._core.on_email(handler)

        return self._loop.run(register())

    def require_approval(
        self,
        contact_channel: ContactChannel | None = None,
        reject_options: list[ResponseOption] | None = None,
        *,
        timeout: float | None = None,
        cancel_on_timeout: bool | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        _check_unique(reject_options, "reject_options")

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                try:
                    completed = self.fetch_approval(
                        FunctionCallSpec(
                            fn=fn.__name__,
                            kwargs=_display_kwargs(fn, args, kwargs),
                            description=inspect.getdoc(fn),
                            channel=contact_channel or self._core.contact_channel,
                            reject_options=reject_options,
                        ),
                        timeout=timeout,
                        cancel_on_timeout=cancel_on_timeout,
                    )
                    response = completed.as_completed()
                except Exception as exc:
                    return f"Error fetching approval for {fn.__name__}: {exc}"
                if response.approved is True:
                    return fn(*args, **kwargs)  # runs on the caller's thread, as written
                return f"User denied {fn.__name__} with message: {response.comment}"

            return wrapper

        return decorator

    def human_as_tool(
        self,
        contact_channel: ContactChannel | None = None,
        response_options: list[ResponseOption] | None = None,
        *,
        timeout: float | None = None,
        cancel_on_timeout: bool | None = None,
    ) -> Callable[..., str]:
        tool = self._core.human_as_tool(
            contact_channel, response_options, timeout=timeout, cancel_on_timeout=cancel_on_timeout
        )

        def contact_human(message: str, subject: str | None = None) -> str:
            return self._loop.run(tool(message, subject))

        contact_human.__name__ = contact_human.__qualname__ = tool.__name__
        contact_human.__doc__ = tool.__doc__
        return contact_human

    def fetch_approval(
        self,
        spec: FunctionCallSpec,
        *,
        timeout: float | None = None,
        call_id: str | None = None,
        cancel_on_timeout: bool | None = None,
    ) -> FunctionCall.Completed:
        return self._loop.run(
            self._core.fetch_approval(
                spec, timeout=timeout, call_id=call_id, cancel_on_timeout=cancel_on_timeout
            )
        )

    def wait_for_approval(
        self, call_id: str, *, timeout: float | None = None, cancel_on_timeout: bool | None = None
    ) -> FunctionCall.Completed:
        return self._loop.run(
            self._core.wait_for_approval(
                call_id, timeout=timeout, cancel_on_timeout=cancel_on_timeout
            )
        )

    def fetch_human_response(
        self,
        spec: HumanContactSpec,
        *,
        timeout: float | None = None,
        call_id: str | None = None,
        cancel_on_timeout: bool | None = None,
    ) -> HumanContact.Completed:
        return self._loop.run(
            self._core.fetch_human_response(
                spec, timeout=timeout, call_id=call_id, cancel_on_timeout=cancel_on_timeout
            )
        )

    def wait_for_human_response(
        self, call_id: str, *, timeout: float | None = None, cancel_on_timeout: bool | None = None
    ) -> HumanContact.Completed:
        return self._loop.run(
            self._core.wait_for_human_response(
                call_id, timeout=timeout, cancel_on_timeout=cancel_on_timeout
            )
        )

    def create_function_call(
        self, spec: FunctionCallSpec, call_id: str | None = None
    ) -> FunctionCall:
        return self._loop.run(self._core.create_function_call(spec, call_id))

    def get_function_call(self, call_id: str) -> FunctionCall:
        return self._loop.run(self._core.get_function_call(call_id))

    def respond_to_function_call(self, call_id: str, status: FunctionCallStatus) -> FunctionCall:
        return self._loop.run(self._core.respond_to_function_call(call_id, status))

    def escalate_email_function_call(self, call_id: str, escalation: Escalation) -> FunctionCall:
        return self._loop.run(self._core.escalate_email_function_call(call_id, escalation))

    def create_human_contact(
        self, spec: HumanContactSpec, call_id: str | None = None
    ) -> HumanContact:
        return self._loop.run(self._core.create_human_contact(spec, call_id))

    def get_human_contact(self, call_id: str) -> HumanContact:
        return self._loop.run(self._core.get_human_contact(call_id))

    def respond_to_human_contact(self, call_id: str, status: HumanContactStatus) -> HumanContact:
        return self._loop.run(self._core.respond_to_human_contact(call_id, status))

    def escalate_email_human_contact(self, call_id: str, escalation: Escalation) -> HumanContact:
        return self._loop.run(self._core.escalate_email_human_contact(call_id, escalation))

    def cancel_function_call(self, call_id: str, reason: str = "") -> FunctionCall:
        return self._loop.run(self._core.cancel_function_call(call_id, reason))

    def cancel_human_contact(self, call_id: str, reason: str = "") -> HumanContact:
        return self._loop.run(self._core.cancel_human_contact(call_id, reason))
