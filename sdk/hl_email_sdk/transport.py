"""Transports: how the SDK core reaches a gateway (in-process, or over HTTP)."""

from __future__ import annotations

from typing import Protocol

from hl_email.models import (
    Escalation,
    FunctionCall,
    FunctionCallStatus,
    HumanContact,
    HumanContactStatus,
)

__all__ = ["LocalTransport", "Transport"]


class Transport(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def create_function_call(self, call: FunctionCall) -> FunctionCall: ...
    async def get_function_call(self, call_id: str) -> FunctionCall: ...
    async def wait_function_call(self, call_id: str, timeout: float | None) -> FunctionCall: ...
    async def respond_to_function_call(
        self, call_id: str, status: FunctionCallStatus
    ) -> FunctionCall: ...
    async def escalate_email_function_call(
        self, call_id: str, escalation: Escalation
    ) -> FunctionCall: ...
    async def cancel_function_call(self, call_id: str, reason: str = "") -> FunctionCall: ...
    async def create_human_contact(self, contact: HumanContact) -> HumanContact: ...
    async def get_human_contact(self, call_id: str) -> HumanContact: ...
    async def wait_human_contact(self, call_id: str, timeout: float | None) -> HumanContact: ...
    async def respond_to_human_contact(
        self, call_id: str, status: HumanContactStatus
    ) -> HumanContact: ...
    async def escalate_email_human_contact(
        self, call_id: str, escalation: Escalation
    ) -> HumanContact: ...
    async def cancel_human_contact(self, call_id: str, reason: str = "") -> HumanContact: ...


class LocalTransport:
    """The gateway runs in this process; waits are futures the gateway resolves."""

    def __init__(self, config: object = None, *, gateway: object = None) -> None:
        # Imported here so that `import hl_email_sdk` never pulls in SMTP/IMAP code.
        from hl_email.config import GatewayConfig, load_config
        from hl_email.gateway import Gateway

        if gateway is not None:
            self.gateway = gateway
            self._owns = False
        else:
            if isinstance(config, GatewayConfig):
                cfg = config
            else:
                cfg = load_config(config)  # type: ignore[arg-type]
            self.gateway = Gateway(cfg)
            self._owns = True

    async def start(self) -> None:
        if self._owns:
            await self.gateway.start()  # type: ignore[attr-defined]

    async def close(self) -> None:
        if self._owns:
            await self.gateway.stop()  # type: ignore[attr-defined]

    async def create_function_call(self, call: FunctionCall) -> FunctionCall:
        return await self.gateway.create_function_call(call)  # type: ignore[attr-defined]

    async def get_function_call(self, call_id: str) -> FunctionCall:
        return await self.gateway.get_function_call(call_id)  # type: ignore[attr-defined]

    async def wait_function_call(self, call_id: str, timeout: float | None) -> FunctionCall:
        return await self.gateway.wait_function_call(call_id, timeout)  # type: ignore[attr-defined]

    async def respond_to_function_call(
        self, call_id: str, status: FunctionCallStatus
    ) -> FunctionCall:
        return await self.gateway.respond_to_function_call(call_id, status)  # type: ignore[attr-defined]

    async def escalate_email_function_call(
        self, call_id: str, escalation: Escalation
    ) -> FunctionCall:
        return await self.gateway.escalate_email(call_id, escalation)  # type: ignore[attr-defined]

    async def create_human_contact(self, contact: HumanContact) -> HumanContact:
        return await self.gateway.create_human_contact(contact)  # type: ignore[attr-defined]

    async def get_human_contact(self, call_id: str) -> HumanContact:
        return await self.gateway.get_human_contact(call_id)  # type: ignore[attr-defined]

    async def wait_human_contact(self, call_id: str, timeout: float | None) -> HumanContact:
        return await self.gateway.wait_human_contact(call_id, timeout)  # type: ignore[attr-defined]

    async def respond_to_human_contact(
        self, call_id: str, status: HumanContactStatus
    ) -> HumanContact:
        return await self.gateway.respond_to_human_contact(call_id, status)  # type: ignore[attr-defined]

    async def escalate_email_human_contact(
        self, call_id: str, escalation: Escalation
    ) -> HumanContact:
        return await self.gateway.escalate_email(call_id, escalation)  # type: ignore[attr-defined]

    async def cancel_function_call(self, call_id: str, reason: str = "") -> FunctionCall:
        return await self.gateway.cancel_function_call(call_id, reason)  # type: ignore[attr-defined]

    async def cancel_human_contact(self, call_id: str, reason: str = "") -> HumanContact:
        return await self.gateway.cancel_human_contact(call_id, reason)  # type: ignore[attr-defined]
