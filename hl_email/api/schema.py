"""/openapi.json: the document is data (openapi.json beside this file); the wire models'
JSON schemas, the API prefix and the long-poll limit are filled in here."""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..models import Escalation, FunctionCall, FunctionCallStatus, HumanContact, HumanContactStatus
from .wire import API_PREFIX, MAX_WAIT

__all__ = ["openapi_schema", "served_schema"]

# The request and response bodies; their schemas (and those they refer to) come first in
# components.schemas, ahead of the document's own error bodies.
_MODELS: list[type[BaseModel]] = [
    FunctionCall,
    FunctionCallStatus,
    HumanContact,
    HumanContactStatus,
    Escalation,
]


@functools.cache
def _document() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("openapi.json").read_text("utf-8")
    text = text.replace("{API_PREFIX}", API_PREFIX).replace("{MAX_WAIT}", f"{MAX_WAIT:g}")
    return json.loads(text)


@functools.cache
def served_schema() -> dict[str, Any]:
    """The document /openapi.json serves, built on its first request (building the models'
    JSON schemas costs tens of ms that `hl-email dev` and `serve` should not pay at start-up);
    callers must not modify it."""
    document = copy.deepcopy(_document())
    _, defs = models_json_schema(
        [(m, "validation") for m in _MODELS], ref_template="#/components/schemas/{model}"
    )
    components = document["components"]
    components["schemas"] = {**defs.get("$defs", {}), **components["schemas"]}
    return document


def openapi_schema() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh copy each call)."""
    return copy.deepcopy(served_schema())
