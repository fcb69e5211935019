"""A time, memory and output budget for channel `template`s (they come from API callers).

Jinja's sandbox stops attribute escapes, not cost: `{% for a in range(99999) %}{% for b in
range(99999) %}{% endfor %}{% endfor %}` runs for minutes and `{{ "x" * 10**10 }}` allocates
10 GB. Here repetition and padding arguments are bounded up front, and while the template runs a
trace function checks the clock and peak memory every few hundred lines, so a render that goes
over its budget ends with TemplateBudgetError instead of stalling the gateway.
"""

from __future__ import annotations

import functools
import re
import resource
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = ["BudgetedSandbox", "TemplateBudget", "TemplateBudgetError", "render_within_budget"]


@dataclass(frozen=True)
class TemplateBudget:
    seconds: float = 1.0
    max_output_chars: int = 1_000_000
    max_memory_bytes: int = 256 * 1024 * 1024


class TemplateBudgetError(jinja2.TemplateError):
    """A channel template used more time, memory or output than its budget."""


_LIMIT = TemplateBudget().max_output_chars
_WIDE_FORMAT = re.compile(r"%[-+ #0]*(?:\d{7,}|\*)")


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _check_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _LIMIT:
            raise SecurityError(f"argument {value} is over the template budget")


def _bounded_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _check_args(args, kwargs)  # e.g. "x"|center(10**9), |indent(10**9)
        return func(*args, **kwargs)

    return wrapper


class BudgetedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with `*`, `**`, `%`, `+` and call arguments kept in budget."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters = {name: _bounded_filter(f) for name, f in self.filters.items()}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                size = _size(seq)
                if size is not None and isinstance(times, int) and size * times > _LIMIT:
                    raise SecurityError("repetition over the template budget")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                if max(abs(left), 2).bit_length() * right > 64 * 1024:
                    raise SecurityError("power over the template budget")
        elif operator == "%":
            if isinstance(left, str) and _WIDE_FORMAT.search(left):
                raise SecurityError("format width over the template budget")
        elif operator == "+":
            a, b = _size(left), _size(right)
            if a is not None and b is not None and a + b > _LIMIT:
                raise SecurityError("concatenation over the template budget")
        return super().call_binop(context, operator, left, right)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N807
        _check_args(args, kwargs)  # e.g. "x".ljust(10**9)
        return super().call(__context, __obj, *args, **kwargs)


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def render_within_budget(
    template: jinja2.Template,
    variables: Mapping[str, Any],
    budget: TemplateBudget = TemplateBudget(),
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> str:
    """`template.render(variables)`, or TemplateBudgetError once over `budget`."""
    deadline = clock() + budget.seconds
    memory_ceiling = _peak_rss_bytes() + budget.max_memory_bytes
    events = 0

    def over(why: str) -> TemplateBudgetError:
        return TemplateBudgetError(f"channel template: {why}")

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal events
        events += 1
        if events % 256 == 0:
            if clock() > deadline:
                raise over(f"took longer than {budget.seconds:g} s")
            if _peak_rss_bytes() > memory_ceiling:
                raise over(f"used more than {budget.max_memory_bytes // 2**20} MB")
        return tracer

    out: list[str] = []
    size = 0
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        for chunk in template.generate(variables):
            size += len(chunk)
            if size > budget.max_output_chars:
                raise over(f"output over {budget.max_output_chars} characters")
            out.append(chunk)
    except RecursionError:
        raise over("recursed too deep") from None
    finally:
        sys.settrace(previous)
    return "".join(out)
