"""The HTTP API's wire rules: limits, error bodies, and reading a JSON body or `?wait=`."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

API_PREFIX = "/humanlayer/v1"
# Longest long-poll a single request may ask for; clients loop for longer waits.
MAX_WAIT = 60.0
# SSE keep-alive comment interval.
SSE_PING = 15.0
STATE_HEADER = "X-HL-Email-State"
# Largest accepted JSON body (a request with big kwargs is still far below this).
MAX_BODY = 1 << 20
# Deepest JSON accepted (kwargs of real calls nest a handful of levels).
MAX_JSON_DEPTH = 64

Kind = Literal["function_call", "human_contact"]


# -- errors ---------------------------------------------------------------------------------------


class HttpError(Exception):
    """Answered as `status` with the JSON `body` (and `headers`) by the endpoint wrapper."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = headers


def _loc(parts: Sequence[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_error(exc: ValidationError, prefix: Sequence[str] = ("body",)) -> HttpError:
    detail = []
    for error in exc.errors(include_url=False):
        loc = [*prefix, *error["loc"]]
        detail.append({"loc": loc, "msg": error["msg"], "type": error["type"]})
    summary = "; ".join(f"{_loc(d['loc'])}: {d['msg']}" for d in detail)
    return HttpError(422, {"detail": detail, "error": f"invalid request: {summary}"})


def field_error(loc: list[str], msg: str, type_: str = "value_error") -> HttpError:
    return HttpError(
        422,
        {"detail": [{"loc": loc, "msg": msg, "type": type_}], "error": f"{_loc(loc)}: {msg}"},
    )


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise HttpError(413, {"detail": f"request body larger than {MAX_BODY} bytes"})
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise HttpError(413, {"detail": f"request body larger than {MAX_BODY} bytes"})
        chunks.append(chunk)
    return b"".join(chunks)


def too_deep(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON data nests deeper than `limit` (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


async def parse_body(request: Request, model: type[BaseModel]) -> Any:
    raw = await read_body(request)
    nested_too_deep = HttpError(
        400, {"detail": f"request body: JSON nested deeper than {MAX_JSON_DEPTH} levels"}
    )
    try:
        data = json.loads(raw) if raw else None
    except RecursionError:
        raise nested_too_deep from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise field_error(["body"], f"invalid JSON: {exc}", "json_invalid") from None
    if data is None:
        raise field_error(["body"], "a JSON object is required", "missing")
    if too_deep(data):
        # Deep values would recurse in validation, rendering and storage (a 500, not a 400).
        raise nested_too_deep
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def parse_wait(request: Request) -> float | None:
    value = request.query_params.get("wait")
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise field_error(
            ["query", "wait"], f"must be a number of seconds, not {value!r}"
        ) from None
    if not math.isfinite(seconds) or seconds < 0:
        raise field_error(["query", "wait"], "must be a finite number of seconds >= 0")
    return min(seconds, MAX_WAIT)
