"""Doctor's results: one CheckResult per line, the report, and how failures are worded."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..connections import config_error
from ..errors import MailConfigError

Status = Literal["ok", "fail", "warn", "skip"]
SYMBOL = {"ok": "✓", "fail": "✗", "warn": "⚠", "skip": "-"}
DOCTOR_HEADER = "X-HL-Email-Doctor"


@dataclass
class CheckResult:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{SYMBOL[self.status]} {self.name}: {self.detail}"
        if self.fix and self.status in ("fail", "warn"):
            text += f"\n    fix: {self.fix}"
        return text


@dataclass
class DoctorReport:
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(r.status == "fail" for r in self.results)

    def get(self, name: str) -> CheckResult | None:
        return next((r for r in self.results if r.name == name), None)


class Add(Protocol):
    """Records one result (and shows it at once); each check is handed one."""

    def __call__(self, name: str, status: Status, detail: str, fix: str = "") -> CheckResult: ...


def error_text(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return re.sub(r"\s+", " ", text)[:300]


def imap_text(lines: list[Any]) -> str:
    out = []
    for line in lines:
        if isinstance(line, (bytes, bytearray)):
            line = bytes(line).decode("utf-8", "replace")
        out.append(str(line))
    return re.sub(r"\s+", " ", " ".join(out)).strip()[:300]


def tls_fix(what: str, security: str) -> str:
    other = "starttls" if security == "tls" else "tls"
    port = "587 (STARTTLS) or 465 (TLS)" if what == "smtp" else "143 (STARTTLS) or 993 (TLS)"
    return (
        f"check {what}.security ({security!r}) matches the port: usually {port}; try "
        f"{what}.security = {other!r}"
    )


def tls_problem(exc: BaseException, what: str, security: str) -> tuple[str, str]:
    """(detail, fix) for a failed TLS step; certificate problems get the CA advice."""
    problem = config_error(exc, what, security)
    if isinstance(problem, MailConfigError):
        return str(problem), problem.fix or tls_fix(what, security)
    return error_text(exc), tls_fix(what, security)
