"""HttpTransport: the SDK core talking to `hl-email serve` over its HumanLayer-compatible API.

Same JSON and paths as the official HumanLayer 0.7.9 SDKs; waits use the gateway's long-poll
(`GET …/{call_id}?wait=SECONDS`), so a wait wakes as soon as the reply is processed rather than on
a polling tick. Network errors and 5xx answers during a wait are retried with backoff until the
caller's timeout, without losing the wait; a server without long-poll support (no
`X-HL-Email-State` header) is polled every 3 s like the official SDK does.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from hl_email.errors import NotFoundError, RequestInvalidError
from hl_email.models import (
    Escalation,
    FunctionCall,
    FunctionCallStatus,
    HumanContact,
    HumanContactStatus,
)

from .errors import GatewayUnreachableError, HumanLayerException

__all__ = ["HttpTransport"]

M = TypeVar("M", bound=BaseModel)

STATE_HEADER = "X-HL-Email-State"
# Seconds asked for per long-poll request; the server caps it at 60.
LONG_POLL = 25.0
# Fallback poll interval for servers without long-poll (HumanLayer's own interval).
POLL_INTERVAL = 3.0


class HttpTransport:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        long_poll: float = LONG_POLL,
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.long_poll = long_poll
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._client = client
        self._owns_client = client is None

    # -- plumbing -------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._client is None:
            headers = {"User-Agent": "hl-email-sdk/0.1"}
            if self.api_key:
                headers["Authorization"] = f"Bearer {self.api_key}"
            self._client = httpx.AsyncClient(headers=headers, timeout=self.timeout)
            self._owns_client = True

    async def close(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
        self._client = None

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        json_body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        http_timeout: float | None = None,
    ) -> httpx.Response:
        await self.start()
        assert self._client is not None
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["json"] = body.model_dump(mode="json")
        elif json_body is not None:
            kwargs["json"] = json_body
        if params:
            kwargs["params"] = params
        if http_timeout is not None:
            kwargs["timeout"] = http_timeout
        url = f"{self.base_url}{path}"
        try:
            resp = await self._client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            why = str(exc) or type(exc).__name__
            raise GatewayUnreachableError(
                f"cannot reach the hl-email gateway at {url} ({type(exc).__name__}: {why}); "
                "is `hl-email serve` (or `hl-email dev`) running there? Check api_base_url / "
                "HUMANLAYER_API_BASE"
            ) from exc
        _raise_for_status(method, path, resp)
        return resp

    @staticmethod
    def _model(resp: httpx.Response, model: type[M]) -> M:
        try:
            return model.model_validate(resp.json())
        except ValueError as exc:
            raise HumanLayerException(
                f"unexpected response from the gateway ({resp.status_code}): {exc}"
            ) from None

    # -- function calls -------------------------------------------------------------------------

    async def create_function_call(self, call: FunctionCall) -> FunctionCall:
        return self._model(await self._request("POST", "/function_calls", body=call), FunctionCall)

    async def get_function_call(self, call_id: str) -> FunctionCall:
        resp = await self._request("GET", f"/function_calls/{_q(call_id)}")
        return self._model(resp, FunctionCall)

    async def wait_function_call(self, call_id: str, timeout: float | None) -> FunctionCall:  # noqa: ASYNC109 - the Transport protocol
        return await self._wait(f"/function_calls/{_q(call_id)}", FunctionCall, call_id, timeout)

    async def respond_to_function_call(
        self, call_id: str, status: FunctionCallStatus
    ) -> FunctionCall:
        resp = await self._request(
            "POST", f"/agent/function_calls/{_q(call_id)}/respond", body=status
        )
        return self._model(resp, FunctionCall)

    async def escalate_email_function_call(
        self, call_id: str, escalation: Escalation
    ) -> FunctionCall:
        resp = await self._request(
            "POST", f"/agent/function_calls/{_q(call_id)}/escalate_email", body=escalation
        )
        return self._model(resp, FunctionCall)

    async def cancel_function_call(self, call_id: str, reason: str = "") -> FunctionCall:
        resp = await self._request(
            "POST", f"/agent/function_calls/{_q(call_id)}/cancel", json_body={"reason": reason}
        )
        return self._model(resp, FunctionCall)

    # -- human contacts -------------------------------------------------------------------------

    async def create_human_contact(self, contact: HumanContact) -> HumanContact:
        resp = await self._request("POST", "/contact_requests", body=contact)
        return self._model(resp, HumanContact)

    async def get_human_contact(self, call_id: str) -> HumanContact:
        resp = await self._request("GET", f"/contact_requests/{_q(call_id)}")
        return self._model(resp, HumanContact)

    async def wait_human_contact(self, call_id: str, timeout: float | None) -> HumanContact:  # noqa: ASYNC109 - the Transport protocol
        return await self._wait(f"/contact_requests/{_q(call_id)}", HumanContact, call_id, timeout)

    async def respond_to_human_contact(
        self, call_id: str, status: HumanContactStatus
    ) -> HumanContact:
        resp = await self._request(
            "POST", f"/agent/human_contacts/{_q(call_id)}/respond", body=status
        )
        return self._model(resp, HumanContact)

    async def escalate_email_human_contact(
        self, call_id: str, escalation: Escalation
    ) -> HumanContact:
        resp = await self._request(
            "POST", f"/agent/human_contacts/{_q(call_id)}/escalate_email", body=escalation
        )
        return self._model(resp, HumanContact)

    async def cancel_human_contact(self, call_id: str, reason: str = "") -> HumanContact:
        resp = await self._request(
            "POST", f"/agent/human_contacts/{_q(call_id)}/cancel", json_body={"reason": reason}
        )
        return self._model(resp, HumanContact)

    # -- waiting --------------------------------------------------------------------------------

    async def _wait(self, path: str, model: type[M], call_id: str, timeout: float | None) -> M:  # noqa: ASYNC109 - the Transport protocol
        """Long-poll until the call leaves `pending`; survive network errors until `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        backoff = self.backoff_initial
        last_error: str | None = None
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                extra = f" (last error: {last_error})" if last_error else ""
                raise TimeoutError(f"no answer to {call_id} within {timeout:g} s{extra}")
            wait = self.long_poll if remaining is None else min(self.long_poll, remaining)
            started = time.monotonic()
            try:
                resp = await self._request(
                    "GET",
                    path,
                    params={"wait": f"{wait:.3f}"},
                    http_timeout=wait + self.timeout,
                )
            except (GatewayUnreachableError, _ServerError) as exc:
                # Gateway restarting, connection dropped, proxy hiccup: keep waiting.
                last_error = f"{type(exc).__name__}: {exc}"
                pause = backoff if remaining is None else min(backoff, max(remaining, 0))
                await asyncio.sleep(pause)
                backoff = min(backoff * 2, self.backoff_max)
                continue
            last_error = None
            obj = self._model(resp, model)
            state = resp.headers.get(STATE_HEADER)
            if state is not None:
                if state != "pending":
                    return obj
                if time.monotonic() - started < wait - 0.05:
                    # Pending before the wait ran out: the server is shutting down. Back off.
                    await asyncio.sleep(min(backoff, max(0.0, wait)))
                    backoff = min(backoff * 2, self.backoff_max)
                else:
                    backoff = self.backoff_initial
                continue  # the long-poll ran out; ask again
            # Not an hl-email server (no long-poll): decide from the body, poll like HumanLayer.
            if _is_finished(obj):
                return obj
            remaining = None if deadline is None else deadline - time.monotonic()
            await asyncio.sleep(
                POLL_INTERVAL if remaining is None else max(0, min(POLL_INTERVAL, remaining))
            )


class _ServerError(HumanLayerException):
    """5xx from the gateway (retried by waits)."""


def _q(call_id: str) -> str:
    return quote(call_id, safe="")


def _is_finished(obj: BaseModel) -> bool:
    status = getattr(obj, "status", None)
    if status is None:
        return False
    if getattr(status, "error", None):
        return True
    if isinstance(obj, FunctionCall):
        return status.approved is not None
    return getattr(status, "response", None) is not None


def _detail(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return resp.text[:500]
    if isinstance(data, dict):
        if isinstance(data.get("error"), str):
            return data["error"]
        if "detail" in data:
            return str(data["detail"])
    return resp.text[:500]


def _raise_for_status(method: str, path: str, resp: httpx.Response) -> None:
    code = resp.status_code
    if code < 400:
        return
    detail = _detail(resp)
    if code == 404:
        raise NotFoundError(detail)
    if code in (400, 409, 422):
        raise RequestInvalidError(detail)
    if code in (401, 403):
        raise HumanLayerException(f"{method} {path}: {code} unauthorized: {detail}")
    if code >= 500:
        raise _ServerError(f"{method} {path}: {code}: {detail}")
    raise HumanLayerException(f"{method} {path}: {code}: {detail}")
