"""Routing rules: who is asked for a request, who may answer, under which policy and timers; pure."""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from .errors import NoRouteError as NoRouteError
from .errors import RouteError as RouteError

__all__ = [
    "EscalationStep",
    "NoRouteError",
    "Predicate",
    "RouteConfig",
    "RouteDecision",
    "RouteError",
    "Router",
    "RoutingConfig",
    "check_groups",
    "explain",
    "format_duration",
    "Groups",
    "may_answer",
    "parse_duration",
    "parse_predicate",
    "resolve_route",
]


# -- durations -----------------------------------------------------------------------------------

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_NUM = r"\d+(?:\.\d+)?"
_DURATION = re.compile(
    rf"^(?:({_NUM})\s*d)?\s*(?:({_NUM})\s*h)?\s*(?:({_NUM})\s*m)?\s*(?:({_NUM})\s*s)?$",
    re.IGNORECASE,
)
_PLAIN_NUMBER = re.compile(rf"^{_NUM}$")


def parse_duration(value: str | int | float) -> float:
    """Seconds from `90s`, `30m`, `4h`, `1d`, `1h30m` (units in that order), or a number of
    seconds (3600 or "3600"). Raises ValueError naming the bad text."""
    hint = "expected e.g. '90s', '30m', '4h', '1d', '1h30m' or a number of seconds"
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}: {hint}")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"invalid duration {value!r}: must be a finite number >= 0")
        return seconds
    if not isinstance(value, str):
        raise ValueError(f"invalid duration {value!r}: {hint}")
    text = value.strip()
    if _PLAIN_NUMBER.match(text):
        return float(text)
    match = _DURATION.match(text)
    if not text or match is None or not any(match.groups()):
        raise ValueError(f"invalid duration {value!r}: {hint}")
    return sum(float(n) * _UNITS[u] for n, u in zip(match.groups(), "dhms", strict=True) if n)


def format_duration(seconds: float) -> str:
    """The short form of a duration: 5400 -> '1h30m', 90 -> '1m30s', 0.5 -> '0.5s'."""
    if seconds != int(seconds):
        return f"{seconds:g}s"
    rest = int(seconds)
    if rest == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _positive_duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError(f"duration {value!r} must be greater than zero")
    return seconds


Duration = Annotated[float, BeforeValidator(_positive_duration)]


# -- predicates: tokenizer ---------------------------------------------------------------------

# Caps keep a hostile or careless predicate from costing more than a rule check should.
MAX_PREDICATE_LENGTH = 2000
MAX_NESTING = 32
MAX_REGEX_LENGTH = 200
MAX_REGEX_SUBJECT = 10_000

_KEYWORDS = {"and", "or", "not", "in", "matches", "true", "false", "null"}
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "~")
_OPERATOR_LIST = "==, !=, <, <=, >, >=, in, not in, ~ or matches"
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|<=|>=|<|>|~)
  | (?P<punct>[()\[\],.])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "'": "'", '"': '"'}


@dataclass(frozen=True)
class _Token:
    kind: str  # number, name, keyword, string, op, punct, end
    text: str
    pos: int
    value: Any = None


def _unescape(body: str, pos: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt not in _ESCAPES:
                raise RouteError(
                    f"unknown escape '\\{nxt}' at position {pos + i}",
                    position=pos + i,
                    expected="one of \\n \\t \\\\ \\' \\\"",
                )
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            ch = text[pos]
            if ch in "'\"":
                raise RouteError(
                    f"unterminated string starting at position {pos}",
                    position=pos,
                    expected=f"a closing {ch}",
                )
            raise RouteError(
                f"unexpected character {ch!r} at position {pos}",
                position=pos,
                expected="a name, a value, an operator or a parenthesis",
            )
        kind = match.lastgroup or ""
        raw = match.group()
        if kind == "number":
            value: Any = float(raw) if any(c in raw for c in ".eE") else int(raw)
            tokens.append(_Token("number", raw, pos, value))
        elif kind == "name":
            tokens.append(_Token("keyword" if raw in _KEYWORDS else "name", raw, pos))
        elif kind == "string":
            tokens.append(_Token("string", raw, pos, _unescape(raw[1:-1], pos + 1)))
        elif kind in ("op", "punct"):
            tokens.append(_Token(kind, raw, pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


# -- predicates: syntax tree and evaluation ----------------------------------------------------

_MISSING = object()
# Evaluation is three-valued: True, False, or None for "cannot tell" (a missing path or a type
# mismatch). `not` keeps None as None, and a top-level None counts as False, so a predicate over
# an argument the call doesn't have is never satisfied, however it is negated.
Truth = bool | None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal | Fraction) and not isinstance(value, bool)


# A string that is plainly a decimal number: "900", "-12.5", " 1e3 ". No thousands separators,
# no "0x", no "nan"/"inf": those stay text.
_NUMERIC_STRING = re.compile(r"\s*[+-]?\d{1,60}(?:\.\d{1,60})?(?:[eE][+-]?\d{1,4})?\s*")


def _numeric(value: Any) -> int | Decimal | None:
    """The number a numeric string spells, else None (only for strings)."""
    if not isinstance(value, str) or len(value) > 130 or not _NUMERIC_STRING.fullmatch(value):
        return None
    text = value.strip()
    try:
        return int(text) if text.lstrip("+-").isdigit() else Decimal(text)
    except (ValueError, ArithmeticError):
        return None


def _coerce(value: Any, literal: Any) -> Any:
    """Arguments often arrive as text ("900" from a form or an LLM): when the rule's literal is
    a number, a numeric string is compared as that number (docs/routing.md)."""
    if _is_number(literal) and isinstance(value, str):
        number = _numeric(value)
        if number is not None:
            return number
    return value


def _equal(left: Any, right: Any) -> bool:
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(
            _equal(a, b) for a, b in zip(left, right, strict=True)
        )
    return False


@dataclass(frozen=True)
class _Compare:
    path: tuple[str | int, ...]
    path_text: str
    op: str
    literal: Any
    pattern: re.Pattern[str] | None = None

    def evaluate(self, kwargs: Mapping[str, Any]) -> Truth:
        value = _lookup(kwargs, self.path)
        if value is _MISSING:
            return None
        op, literal = self.op, self.literal
        if op == "==":
            return _equal(_coerce(value, literal), literal)
        if op == "!=":
            return not _equal(_coerce(value, literal), literal)
        if op in ("in", "not in"):
            if isinstance(literal, str):
                if not isinstance(value, str):
                    return None
                found = value in literal
            else:
                found = any(_equal(_coerce(value, item), item) for item in literal)
            return found if op == "in" else not found
        if op in ("~", "matches"):
            if not isinstance(value, str) or self.pattern is None:
                return None
            if op == "matches" and len(value) > MAX_REGEX_SUBJECT:
                return None
            subject = value.lower() if op == "~" else value
            return self.pattern.fullmatch(subject) is not None
        # Ordering: numbers with numbers, strings with strings; anything else cannot be compared.
        value = _coerce(value, literal)
        comparable = (_is_number(value) and _is_number(literal)) or (
            isinstance(value, str) and isinstance(literal, str)
        )
        if not comparable:
            return None
        if op == "<":
            return bool(value < literal)
        if op == "<=":
            return bool(value <= literal)
        if op == ">":
            return bool(value > literal)
        return bool(value >= literal)


@dataclass(frozen=True)
class _Not:
    operand: _Node

    def evaluate(self, kwargs: Mapping[str, Any]) -> Truth:
        result = self.operand.evaluate(kwargs)
        return None if result is None else not result


@dataclass(frozen=True)
class _And:
    operands: tuple[_Node, ...]

    def evaluate(self, kwargs: Mapping[str, Any]) -> Truth:
        results = [operand.evaluate(kwargs) for operand in self.operands]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True


@dataclass(frozen=True)
class _Or:
    operands: tuple[_Node, ...]

    def evaluate(self, kwargs: Mapping[str, Any]) -> Truth:
        results = [operand.evaluate(kwargs) for operand in self.operands]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False


_Node = _Compare | _Not | _And | _Or


def _lookup(root: Mapping[str, Any], path: tuple[str | int, ...]) -> Any:
    value: Any = root
    for step in path:
        if isinstance(value, Mapping):
            if isinstance(step, int):
                step = str(step)
            if step not in value:
                return _MISSING
            value = value[step]
        elif isinstance(value, list | tuple):
            if not isinstance(step, int) or not -len(value) <= step < len(value):
                return _MISSING
            value = value[step]
        elif isinstance(step, str) and not step.startswith("_") and hasattr(value, "__dict__"):
            # Plain objects (dataclasses, pydantic models) passed from Python: data attributes
            # only, never methods or private names.
            attr = getattr(value, step, _MISSING)
            if attr is _MISSING or callable(attr):
                return _MISSING
            value = attr
        else:
            return _MISSING
    return value


def _compares(node: _Node) -> list[_Compare]:
    if isinstance(node, _Compare):
        return [node]
    if isinstance(node, _Not):
        return _compares(node.operand)
    return [c for operand in node.operands for c in _compares(operand)]


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if _is_number(value):
        return "a number"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a dict"
    return f"a {type(value).__name__}"


def _type_note(compare: _Compare, kwargs: Mapping[str, Any]) -> str | None:
    """What `routes test` says about one comparison's types: a numeric string compared as a
    number, or types that cannot be compared (so the comparison is unknown, i.e. false)."""
    value = _lookup(kwargs, compare.path)
    if value is _MISSING:
        return None
    literal = compare.literal
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    op = compare.op
    if op in ("==", "!=", "<", "<=", ">", ">=") and _is_number(literal):
        if isinstance(value, str):
            if _numeric(value) is not None:
                return f"{compare.path_text} {shown} is text, compared as the number it spells"
            return (
                f"type mismatch: {compare.path_text} is text ({shown}), not a number; "
                f"'{compare.path_text} {op} {literal}' is unknown (false)"
            )
        if not _is_number(value) and op not in ("==", "!="):
            return (
                f"type mismatch: {compare.path_text} is {_type_name(value)} ({shown}), "
                f"not a number; '{compare.path_text} {op} {literal}' is unknown (false)"
            )
    if op in ("<", "<=", ">", ">=") and isinstance(literal, str) and not isinstance(value, str):
        return (
            f"type mismatch: {compare.path_text} is {_type_name(value)} ({shown}), compared "
            f"with text {literal!r}; the comparison is unknown (false)"
        )
    if op in ("~", "matches") and not isinstance(value, str):
        return (
            f"type mismatch: {compare.path_text} is {_type_name(value)} ({shown}); "
            f"{op} needs text, so the comparison is unknown (false)"
        )
    return None


def _paths(node: _Node) -> list[tuple[str, tuple[str | int, ...]]]:
    if isinstance(node, _Compare):
        return [(node.path_text, node.path)]
    if isinstance(node, _Not):
        return _paths(node.operand)
    found: list[tuple[str, tuple[str | int, ...]]] = []
    for operand in node.operands:
        for item in _paths(operand):
            if item not in found:
                found.append(item)
    return found


# -- predicates: parser --------------------------------------------------------------------------


def _describe(token: _Token) -> str:
    return "the end of the text" if token.kind == "end" else repr(token.text)


class _Parser:
    """Recursive descent over the grammar in docs/routing.md."""

    def __init__(self, text: str) -> None:
        self.source = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, expected: str, *, after: _Token | None = None, detail: str = "") -> RouteError:
        token = self.token
        where = f" after {after.text!r}" if after is not None else ""
        hint = f" ({detail})" if detail else ""
        return RouteError(
            f"expected {expected}{where} at position {token.pos}{hint}, found {_describe(token)}",
            position=token.pos,
            expected=expected,
        )

    def is_keyword(self, word: str) -> bool:
        return self.token.kind == "keyword" and self.token.text == word

    def parse(self) -> _Node:
        if self.token.kind == "end":
            raise self.fail("a condition such as amount >= 500")
        node = self.parse_or()
        if self.token.kind != "end":
            raise self.fail("'and', 'or' or the end of the condition")
        return node

    def parse_or(self) -> _Node:
        operands = [self.parse_and()]
        while self.is_keyword("or"):
            self.advance()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else _Or(tuple(operands))

    def parse_and(self) -> _Node:
        operands = [self.parse_not()]
        while self.is_keyword("and"):
            self.advance()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else _And(tuple(operands))

    def parse_not(self) -> _Node:
        if self.is_keyword("not"):
            self.enter()
            self.advance()
            node: _Node = _Not(self.parse_not())
            self.depth -= 1
            return node
        return self.parse_atom()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise RouteError(
                f"conditions nested deeper than {MAX_NESTING} levels at position {self.token.pos}",
                position=self.token.pos,
                expected="less nesting",
            )

    def parse_atom(self) -> _Node:
        if self.token.kind == "punct" and self.token.text == "(":
            self.enter()
            self.advance()
            node = self.parse_or()
            if not (self.token.kind == "punct" and self.token.text == ")"):
                raise self.fail("')' or 'and'/'or'")
            self.advance()
            self.depth -= 1
            return node
        return self.parse_comparison()

    def parse_path(self) -> tuple[tuple[str | int, ...], str, _Token]:
        token = self.token
        if token.kind != "name":
            expected = "an argument name (e.g. amount or customer.country)"
            if token.kind == "keyword":
                expected += f"; {token.text!r} is a reserved word"
            raise self.fail(expected)
        steps: list[str | int] = [self.name_step(self.advance())]
        last = token
        while self.token.kind == "punct" and self.token.text in (".", "["):
            punct = self.advance()
            if punct.text == ".":
                if self.token.kind not in ("name", "keyword", "number") or (
                    self.token.kind == "number" and not isinstance(self.token.value, int)
                ):
                    raise self.fail("a field name", after=punct)
                step_token = self.advance()
                steps.append(
                    step_token.value if step_token.kind == "number" else self.name_step(step_token)
                )
                last = step_token
            else:
                index = self.token
                if index.kind == "number" and isinstance(index.value, int):
                    steps.append(index.value)
                elif index.kind == "string":
                    steps.append(index.value)
                else:
                    raise self.fail("an integer index or a quoted key", after=punct)
                self.advance()
                if not (self.token.kind == "punct" and self.token.text == "]"):
                    raise self.fail("']'", after=index)
                last = self.advance()
        end = last.pos + len(last.text)
        return tuple(steps), self.text_between(token.pos, end), last

    def name_step(self, token: _Token) -> str:
        if token.text.startswith("__"):
            raise RouteError(
                f"names starting with '__' are not allowed (at position {token.pos})",
                position=token.pos,
                expected="an argument name",
            )
        return token.text

    def text_between(self, start: int, end: int) -> str:
        return self.source[start:end]

    def parse_comparison(self) -> _Compare:
        path, path_text, last = self.parse_path()
        token = self.token
        if token.kind == "op":
            op = self.advance().text
        elif token.kind == "keyword" and token.text in ("in", "matches"):
            op = self.advance().text
        elif token.kind == "keyword" and token.text == "not":
            self.advance()
            if not self.is_keyword("in"):
                raise self.fail("'in'", after=token)
            self.advance()
            op = "not in"
        else:
            raise self.fail(f"an operator ({_OPERATOR_LIST})", after=last)
        op_token = self.tokens[self.index - 1]
        shown = _Token(op_token.kind, op, op_token.pos)
        value_pos = self.token.pos
        literal = self.parse_literal(after=shown)
        pattern: re.Pattern[str] | None = None
        if op in ("~", "matches"):
            if not isinstance(literal, str):
                raise RouteError(
                    f"{op!r} needs a quoted pattern at position {value_pos}",
                    position=value_pos,
                    expected="a quoted pattern",
                )
            pattern = self.compile_pattern(op, literal, value_pos)
        elif op in ("in", "not in"):
            if not isinstance(literal, list | str):
                raise RouteError(
                    f"{op!r} needs a [list] or a quoted string at position {value_pos}",
                    position=value_pos,
                    expected="a [list] or a quoted string",
                )
        elif op in ("<", "<=", ">", ">="):
            if not (_is_number(literal) or isinstance(literal, str)):
                raise RouteError(
                    f"{op!r} needs a number or a quoted string at position {value_pos}",
                    position=value_pos,
                    expected="a number or a quoted string",
                )
        return _Compare(path, path_text, op, literal, pattern)

    @staticmethod
    def compile_pattern(op: str, literal: str, pos: int) -> re.Pattern[str]:
        if op == "~":
            return re.compile(fnmatch.translate(literal.lower()), re.DOTALL)
        if len(literal) > MAX_REGEX_LENGTH:
            raise RouteError(
                f"regular expression at position {pos} is longer than {MAX_REGEX_LENGTH} characters",
                position=pos,
                expected=f"a pattern of at most {MAX_REGEX_LENGTH} characters",
            )
        try:
            return re.compile(literal)
        except re.error as exc:
            raise RouteError(
                f"invalid regular expression at position {pos}: {exc}",
                position=pos,
                expected="a valid Python regular expression",
            ) from None

    def parse_literal(self, *, after: _Token | None = None, in_list: bool = False) -> Any:
        token = self.token
        if token.kind in ("number", "string"):
            self.advance()
            return token.value
        if token.kind == "keyword" and token.text in ("true", "false", "null"):
            self.advance()
            return {"true": True, "false": False, "null": None}[token.text]
        if token.kind == "punct" and token.text == "[" and not in_list:
            open_token = self.advance()
            items: list[Any] = []
            while not (self.token.kind == "punct" and self.token.text == "]"):
                items.append(
                    self.parse_literal(after=open_token if not items else None, in_list=True)
                )
                if self.token.kind == "punct" and self.token.text == ",":
                    self.advance()
                    continue
                if not (self.token.kind == "punct" and self.token.text == "]"):
                    raise self.fail("',' or ']'")
            self.advance()
            return items
        detail = "a number, 'text', true, false or null"
        if not in_list:
            detail = detail.replace(" or null", ", null or a [list]")
        raise self.fail("a value", after=after, detail=detail)


def _parse(text: str) -> _Node:
    return _Parser(text).parse()


class Predicate:
    """A parsed condition over a call's arguments, e.g. `amount >= 500 and country in ['DE']`.

    Parse once with `parse_predicate(text)`; `evaluate(kwargs)` never raises: a missing argument
    or a type mismatch makes the condition false (see docs/routing.md).
    """

    __slots__ = ("_node", "text")

    def __init__(self, text: str, node: _Node) -> None:
        self.text = text
        self._node = node

    def evaluate(self, kwargs: Mapping[str, Any]) -> bool:
        try:
            return self._node.evaluate(kwargs) is True
        except Exception:  # e.g. a user object whose __eq__ raises; never let a rule crash
            return False

    __call__ = evaluate

    @property
    def paths(self) -> tuple[str, ...]:
        """The argument paths the condition reads, as written."""
        return tuple(text for text, _ in _paths(self._node))

    def values(self, kwargs: Mapping[str, Any]) -> str:
        """`amount = 120, country missing`: what the condition saw, for explanations."""
        shown = []
        for text, path in _paths(self._node):
            value = _lookup(kwargs, path)
            if value is _MISSING:
                shown.append(f"{text} missing")
            else:
                rendered = repr(value)
                if len(rendered) > 60:
                    rendered = rendered[:57] + "..."
                shown.append(f"{text} = {rendered}")
        return ", ".join(shown)

    def type_notes(self, kwargs: Mapping[str, Any]) -> tuple[str, ...]:
        """Numeric strings compared as numbers, and type mismatches, for explanations."""
        notes: list[str] = []
        for compare in _compares(self._node):
            note = _type_note(compare, kwargs)
            if note is not None and note not in notes:
                notes.append(note)
        return tuple(notes)

    def __repr__(self) -> str:
        return f"Predicate({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Predicate) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def parse_predicate(text: str) -> Predicate:
    """Parse a condition; raise RouteError with the position and what was expected."""
    if not isinstance(text, str):
        raise RouteError(f"a condition must be text, got {type(text).__name__}")
    if len(text) > MAX_PREDICATE_LENGTH:
        raise RouteError(
            f"condition is longer than {MAX_PREDICATE_LENGTH} characters",
            position=MAX_PREDICATE_LENGTH,
            expected="a shorter condition",
        )
    return Predicate(text, _parse(text))


def _predicate_text(value: str) -> str:
    try:
        parse_predicate(value)
    except RouteError as exc:
        raise ValueError(f"{exc} (in {value!r})") from None
    return value


# -- config models -------------------------------------------------------------------------------


def _address(value: Any) -> str:
    # Imported here: config.py imports this module for its [[routes]] fields.
    from .config import normalize_address

    return normalize_address(value)


Address = Annotated[str, AfterValidator(_address)]
_GROUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _domain(value: str) -> str:
    domain = value[1:]
    try:
        return "@" + _address(f"x@{domain}").rpartition("@")[2]
    except ValueError:
        raise ValueError(f"{value!r} is not a valid @domain") from None


def _responder(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a responder must be text, got {type(value).__name__}")
    text = value.strip()
    if text.startswith("group:"):
        name = text[len("group:") :]
        if not _GROUP_NAME.match(name):
            raise ValueError(f"{value!r} is not a valid group reference (group:NAME)")
        return text
    if text.startswith("@"):
        return _domain(text)
    return _address(text)


def _group_member(value: Any) -> str:
    if isinstance(value, str) and value.strip().startswith("group:"):
        raise ValueError(f"{value!r}: groups cannot contain other groups")
    return _responder(value)


Responder = Annotated[str, AfterValidator(_responder)]
GroupMember = Annotated[str, AfterValidator(_group_member)]


class EscalationStep(BaseModel):
    """After `after` seconds without a decision: add recipients, or hand over to others."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: Duration
    add: list[Address] = Field(default_factory=list)
    handover: list[Address] = Field(default_factory=list)
    message: str | None = None

    @model_validator(mode="after")
    def _one_action(self) -> EscalationStep:
        if not self.add and not self.handover:
            raise ValueError(
                "an escalation step needs 'add' or 'handover' addresses (use reminders for a nudge)"
            )
        if self.add and self.handover:
            raise ValueError("an escalation step takes 'add' or 'handover', not both")
        return self


class RouteConfig(BaseModel):
    """One `[[routes]]` rule: conditions to match a request, and where it goes if it does."""

    model_config = ConfigDict(extra="forbid")

    name: str
    # -- match: every given condition must hold; an omitted one matches anything
    agent: str | None = None
    run_id: str | None = None
    kind: Literal["approval", "question"] | None = None
    fn: str | None = None
    when: list[Annotated[str, AfterValidator(_predicate_text)]] = Field(default_factory=list)
    # -- result
    to: list[Address] = Field(default_factory=list)
    cc: list[Address] = Field(default_factory=list)
    bcc: list[Address] = Field(default_factory=list)
    responders: list[Responder] = Field(default_factory=list)
    policy: Literal["any", "all", "quorum"] = "any"
    quorum: int | None = None
    timeout: Duration | None = None
    reminders: list[Duration] = Field(default_factory=list)
    escalations: list[EscalationStep] = Field(default_factory=list)
    delegates: dict[Address, Address] = Field(default_factory=dict)
    language: str | None = None
    template_set: str | None = None
    mailbox: str | None = None  # a [[mailboxes]] name: the identity that asks (default [agent])
    # "code": the ask carries an approval code the approving reply must contain
    approval: Literal["reply", "code"] | None = None
    # Reminders wait for these hours ("09:00-18:00" or "mon-fri 09:00-18:00") in `tz`
    # (default UTC), so "remind after 1h" does not fire at 3 am.
    working_hours: str | None = None
    tz: str | None = None

    _predicates: tuple[Predicate, ...] = PrivateAttr(default=())

    @field_validator("working_hours")
    @classmethod
    def _working_hours(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from .hours import parse_working_hours

        return parse_working_hours(value).text

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from .hours import parse_tz

        parse_tz(value)
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a route needs a non-empty name")
        return value.strip()

    @model_validator(mode="after")
    def _consistent(self) -> RouteConfig:
        if not (self.to or self.cc or self.bcc):
            raise ValueError("a route needs at least one recipient in to, cc or bcc")
        if self.policy == "quorum":
            if self.quorum is None:
                raise ValueError("policy 'quorum' needs quorum = N (how many approvals)")
            if self.quorum < 1:
                raise ValueError(f"quorum must be at least 1, got {self.quorum}")
            possible = _possible_responders(self, groups=None)
            if possible is not None and self.quorum > possible:
                raise ValueError(
                    f"quorum {self.quorum} can never be reached: only {possible} "
                    "people may answer this route"
                )
        elif self.quorum is not None:
            raise ValueError(
                f"quorum is only used with policy = 'quorum' (policy is {self.policy!r})"
            )
        for label, delay in [("reminders", r) for r in self.reminders] + [
            ("escalations", s.after) for s in self.escalations
        ]:
            if self.timeout is not None and delay >= self.timeout:
                raise ValueError(
                    f"{label}: {format_duration(delay)} is not before the timeout "
                    f"({format_duration(self.timeout)}), so it would never run"
                )
        for address, delegate in self.delegates.items():
            if address == delegate:
                raise ValueError(f"delegates: {address} cannot delegate to itself")
        self._predicates = tuple(parse_predicate(text) for text in self.when)
        return self

    @property
    def predicates(self) -> tuple[Predicate, ...]:
        """The parsed `when` conditions (re-parsed if `when` was changed after validation)."""
        if tuple(p.text for p in self._predicates) != tuple(self.when):
            return tuple(parse_predicate(text) for text in self.when)
        return self._predicates

    def group_names(self) -> list[str]:
        return [r[len("group:") :] for r in self.responders if r.startswith("group:")]


def _possible_responders(
    route: RouteConfig, groups: Mapping[str, Sequence[str]] | None
) -> int | None:
    """How many people can answer, or None when unbounded (@domain) or not yet known (groups)."""
    if not route.responders:
        return len(dict.fromkeys([*route.to, *route.cc, *route.bcc]))
    people: set[str] = set()
    for entry in route.responders:
        if entry.startswith("group:"):
            if groups is None or entry[6:] not in groups:
                return None
            members = groups[entry[6:]]
            if any(m.startswith("@") for m in members):
                return None
            people.update(members)
        elif entry.startswith("@"):
            return None
        else:
            people.add(entry)
    return len(people)


class _RoutingIssue(ValueError):
    """A cross-check failure, with where it is (`loc`) and what is wrong (`message`)."""

    def __init__(self, loc: tuple[str | int, ...], message: str, shown_key: str) -> None:
        super().__init__(f"{shown_key}: {message}")
        self.loc = loc
        self.message = message


_MATCH_KEYS = ("agent", "run_id", "kind", "fn", "when")


def _issues(
    routes: Sequence[RouteConfig], default: RouteConfig | None, groups: Mapping[str, Sequence[str]]
) -> Iterable[tuple[tuple[str | int, ...], str]]:
    seen: dict[str, int] = {}
    for i, route in enumerate(routes):
        if route.name in seen:
            yield (
                ("routes", i, "name"),
                f"{route.name!r} is already the name of rule {seen[route.name]}; "
                "rule names must be unique",
            )
        seen[route.name] = i
    located: list[tuple[tuple[str | int, ...], RouteConfig]] = [
        (("routes", i), r) for i, r in enumerate(routes)
    ]
    if default is not None:
        located.append((("default",), default))
        for key in _MATCH_KEYS:
            if key in default.model_fields_set and getattr(default, key) not in (None, []):
                yield (
                    ("default", key),
                    "the default route is used when no rule matches, so it takes no conditions "
                    f"({', '.join(_MATCH_KEYS)}); put them in a [[routes]] rule",
                )
    for loc, route in located:
        for j, entry in enumerate(route.responders):
            if entry.startswith("group:") and entry[6:] not in groups:
                known = ", ".join(sorted(groups)) or "none defined"
                yield (
                    (*loc, "responders", j),
                    f"unknown group {entry[6:]!r} (groups: {known}; define it under [groups])",
                )
        if route.policy == "quorum" and route.quorum is not None:
            possible = _possible_responders(route, groups)
            if possible is not None and route.quorum > possible:
                yield (
                    (*loc, "quorum"),
                    f"{route.quorum} can never be reached: only {possible} people may answer",
                )


def check_groups(
    routes: Sequence[RouteConfig],
    default: RouteConfig | None,
    groups: Mapping[str, Sequence[str]],
    *,
    default_key: str = "default",
) -> None:
    """Cross-checks that need the whole routing config: unique rule names, known groups, a quorum
    the expanded groups can reach, no conditions on the default route.

    Raises ValueError naming the key, e.g. `routes.2.responders.0: unknown group 'finance' …`.
    """
    for loc, message in _issues(routes, default, groups):
        if loc[0] == "default":
            loc = (default_key, *loc[1:])
        raise _RoutingIssue(loc, message, ".".join(str(part) for part in loc))


def _groups_field(value: dict[str, list[str]]) -> dict[str, list[str]]:
    for name, members in value.items():
        if not _GROUP_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid group name (letters, digits, _ . -)")
        if not members:
            raise ValueError(f"group {name!r} is empty")
    return value


Groups = Annotated[dict[str, list[GroupMember]], AfterValidator(_groups_field)]


class RoutingConfig(BaseModel):
    """All routing: rules in order, the default route, and named groups of responders."""

    model_config = ConfigDict(extra="forbid")

    routes: list[RouteConfig] = Field(default_factory=list)
    default: RouteConfig | None = None
    groups: Groups = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_checks(self) -> RoutingConfig:
        check_groups(self.routes, self.default, self.groups)
        return self

    @classmethod
    def from_gateway_config(cls, config: Any) -> RoutingConfig:
        """From a GatewayConfig's top-level `routes`, `default_route` and `groups`."""
        return cls(
            routes=list(config.routes),
            default=config.default_route,
            groups=dict(config.groups),
        )


def gateway_routes_check(value: Any, info: ValidationInfo) -> Any:
    """For GatewayConfig's `routes` and `default_route` validators: check them against `groups`,
    reporting the exact key (`routes.0.responders.1`) through pydantic's error location."""
    if "groups" not in info.data:  # [groups] itself is invalid; that error is reported instead
        return value
    try:
        if info.field_name == "routes":
            check_groups(value, None, info.data["groups"])
        elif value is not None:
            check_groups([], value, info.data["groups"])
    except _RoutingIssue as issue:
        # A ValidationError raised inside a validator is merged with the field's location.
        relative = issue.loc[1:]
        raise ValidationError.from_exception_data(
            "GatewayConfig",
            [
                InitErrorDetails(
                    type=PydanticCustomError("routing", "{message}", {"message": issue.message}),
                    loc=relative,
                    input=value,
                )
            ],
        ) from None
    return value


# -- resolution ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteDecision:
    """Where a request goes. `why` explains the decision line by line."""

    source: Literal["channel", "rule", "default"]
    rule: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    responders: tuple[str, ...]
    policy: str
    quorum: int
    timeout: float | None
    reminders: tuple[float, ...]
    escalations: tuple[EscalationStep, ...]
    delegates: Mapping[str, str]
    why: tuple[str, ...]
    language: str | None = None
    template_set: str | None = None
    mailbox: str | None = None
    approval: str | None = None
    working_hours: str | None = None
    tz: str | None = None

    @property
    def recipients(self) -> tuple[str, ...]:
        return (*self.to, *self.cc, *self.bcc)


def _glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


_KINDS = {"approval": "approval", "question": "question"}
_KINDS |= {"function_call": "approval", "human_contact": "question"}


def _check_rule(
    route: RouteConfig,
    *,
    kind: str,
    fn: str | None,
    kwargs: Mapping[str, Any],
    run_id: str,
    agent: str,
) -> tuple[bool, str]:
    """Whether a rule matches, and a phrase saying why (the first failing condition)."""
    matched: list[str] = []
    if route.kind is not None:
        if route.kind != kind:
            return False, f"kind is {kind}, rule wants {route.kind}"
        matched.append(f"kind {kind}")
    if route.agent is not None:
        if not _glob(route.agent, agent):
            return False, f"agent {agent!r} does not match {route.agent!r}"
        matched.append(f"agent ~ {route.agent!r}")
    if route.run_id is not None:
        if not _glob(route.run_id, run_id):
            return False, f"run_id {run_id!r} does not match {route.run_id!r}"
        matched.append(f"run_id ~ {route.run_id!r}")
    if route.fn is not None:
        if fn is None:
            return False, f"no function name (a {kind}), rule wants fn {route.fn!r}"
        if not _glob(route.fn, fn):
            return False, f"fn {fn!r} does not match {route.fn!r}"
        matched.append(f"fn {fn!r} ~ {route.fn!r}")
    for i, predicate in enumerate(route.predicates):
        notes = "".join(f"; {note}" for note in predicate.type_notes(kwargs))
        if not predicate.evaluate(kwargs):
            seen = predicate.values(kwargs)
            return False, f"when[{i}] {predicate.text!r} is false ({seen}{notes})"
        matched.append(f"when[{i}] {predicate.text!r}" + (f" ({notes[2:]})" if notes else ""))
    return True, ", ".join(matched) or "no conditions (matches every request)"


def _expand_responders(route: RouteConfig, groups: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    expanded: list[str] = []
    for entry in route.responders:
        if entry.startswith("group:"):
            name = entry[len("group:") :]
            if name not in groups:
                raise RouteError(f"route {route.name!r}: unknown group {name!r} in responders")
            expanded.extend(groups[name])
        else:
            expanded.append(entry)
    return tuple(dict.fromkeys(e.lower() for e in expanded))


def _recipients(
    to: Iterable[str], cc: Iterable[str], bcc: Iterable[str]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    # One email per person: an address listed twice keeps its most visible field (to > cc > bcc).
    seen: set[str] = set()
    out: list[list[str]] = [[], [], []]
    for i, addresses in enumerate((to, cc, bcc)):
        for address in addresses:
            key = address.lower()
            if key not in seen:
                seen.add(key)
                out[i].append(address)
    return tuple(out[0]), tuple(out[1]), tuple(out[2])


def _quorum(
    policy: str, route_quorum: int | None, responders: Sequence[str], recipients: Sequence[str]
) -> int:
    if policy == "quorum":
        return route_quorum or 1
    if policy == "all":
        return max(1, sum(1 for r in recipients if may_answer(responders, recipients, r)))
    return 1


def _unanswerable(route: RouteConfig, responders: Sequence[str]) -> list[str]:
    """Warnings for people the route asks who may not answer under its explicit responders."""
    if not responders:
        return []
    asked = [(a, "to") for a in route.to]
    for i, step in enumerate(route.escalations):
        asked += [(a, f"escalations[{i}]") for a in (*step.add, *step.handover)]
    asked += [(b, f"delegates[{a!r}]") for a, b in route.delegates.items()]
    return [
        f"warning: {address} ({where}) would be asked but may not answer: "
        "it is not among the responders"
        for address, where in asked
        if not may_answer(responders, (), address)
    ]


def _call_text(kind: str, fn: str | None) -> str:
    return f"{fn}(...)" if fn else f"a {kind}"


def resolve_route(
    routing: RoutingConfig,
    *,
    kind: str,
    fn: str | None,
    kwargs: Mapping[str, Any],
    run_id: str,
    agent: str,
    channel_addresses: Sequence[tuple[str, str]] = (),
) -> RouteDecision:
    """Decide where a request goes.

    Precedence: an explicit contact channel names the recipients (policy `any`, every recipient
    may answer), with timers and delegates from the first matching rule, else the default route;
    without a channel, the first matching rule in order, else the default route; else
    NoRouteError.
    """
    if kind not in _KINDS:
        raise RouteError(f"unknown request kind {kind!r} (expected approval or question)")
    kind = _KINDS[kind]
    kwargs = kwargs or {}
    why: list[str] = []
    if channel_addresses:
        fields = {"to": [], "cc": [], "bcc": []}  # type: dict[str, list[str]]
        for address, field_name in channel_addresses:
            if field_name not in fields:
                raise RouteError(f"contact channel field {field_name!r} is not to, cc or bcc")
            fields[field_name].append(address.strip().lower())
        why.append(
            "contact channel given in the call: it names the recipients (policy any; "
            "every recipient may answer)"
        )
    matched: RouteConfig | None = None
    for i, route in enumerate(routing.routes):
        ok, reason = _check_rule(route, kind=kind, fn=fn, kwargs=kwargs, run_id=run_id, agent=agent)
        if ok:
            why.append(f"rule {route.name!r} (routes[{i}]) matched: {reason}")
            matched = route
            rest = len(routing.routes) - i - 1
            if rest:
                why.append(f"{rest} later rule(s) not checked: the first match wins")
            break
        why.append(f"rule {route.name!r} (routes[{i}]) did not match: {reason}")
    if not routing.routes:
        why.append("no rules configured")
    chosen = matched or routing.default
    if chosen is not None and matched is None:
        why.append(f"default route {chosen.name!r} used: no rule matched")

    if channel_addresses:
        to, cc, bcc = _recipients(fields["to"], fields["cc"], fields["bcc"])
        if chosen is not None:
            why.append(
                f"timers and delegates from {'rule' if matched else 'default route'} "
                f"{chosen.name!r}; its recipients, responders and policy are not used"
            )
        else:
            why.append("no rule or default route: no timeout, reminders or escalations")
        return RouteDecision(
            source="channel",
            rule=chosen.name if chosen is not None else None,
            to=to,
            cc=cc,
            bcc=bcc,
            responders=(),
            policy="any",
            quorum=1,
            timeout=chosen.timeout if chosen else None,
            reminders=tuple(sorted(set(chosen.reminders))) if chosen else (),
            escalations=tuple(sorted(chosen.escalations, key=lambda s: s.after)) if chosen else (),
            delegates=MappingProxyType(dict(chosen.delegates)) if chosen else MappingProxyType({}),
            why=tuple(why),
            language=chosen.language if chosen else None,
            template_set=chosen.template_set if chosen else None,
            mailbox=chosen.mailbox if chosen else None,
            approval=chosen.approval if chosen else None,
            working_hours=chosen.working_hours if chosen else None,
            tz=chosen.tz if chosen else None,
        )
    if chosen is None:
        raise NoRouteError(
            f"no route for {_call_text(kind, fn)}: no rule matched and no default route; "
            "add a [[routes]] rule or pass a contact_channel",
            why=why,
        )
    to, cc, bcc = _recipients(chosen.to, chosen.cc, chosen.bcc)
    responders = _expand_responders(chosen, routing.groups)
    recipients = (*to, *cc, *bcc)
    why.extend(_unanswerable(chosen, responders))
    return RouteDecision(
        source="rule" if matched else "default",
        rule=chosen.name,
        to=to,
        cc=cc,
        bcc=bcc,
        responders=responders,
        policy=chosen.policy,
        quorum=_quorum(chosen.policy, chosen.quorum, responders, recipients),
        timeout=chosen.timeout,
        reminders=tuple(sorted(set(chosen.reminders))),
        escalations=tuple(sorted(chosen.escalations, key=lambda s: s.after)),
        delegates=MappingProxyType(dict(chosen.delegates)),
        why=tuple(why),
        language=chosen.language,
        template_set=chosen.template_set,
        mailbox=chosen.mailbox,
        approval=chosen.approval,
        working_hours=chosen.working_hours,
        tz=chosen.tz,
    )


def may_answer(decision_responders: Sequence[str], recipients: Sequence[str], address: str) -> bool:
    """Whether `address` may answer: with no responders, any recipient; otherwise an exact
    address or an `@domain` entry for its domain (case-insensitive)."""
    address = address.strip().lower()
    if not address:
        return False
    if not decision_responders:
        return address in {r.strip().lower() for r in recipients}
    domain = "@" + address.rpartition("@")[2]
    for entry in decision_responders:
        entry = entry.strip().lower()
        if entry.startswith("@"):
            if domain == entry:
                return True
        elif entry == address:
            return True
    return False


@dataclass
class Router:
    """Routing rules from config plus rules added from Python; resolves requests."""

    routing: RoutingConfig = field(default_factory=RoutingConfig)

    @classmethod
    def from_gateway_config(cls, config: Any) -> Router:
        return cls(RoutingConfig.from_gateway_config(config))

    def add_route(
        self, route: RouteConfig | Mapping[str, Any], *, first: bool = False
    ) -> RouteConfig:
        """Add a rule at the end (or, with first=True, before all others); returns it.

        Raises RouteError when the rule is invalid or its name is taken.
        """
        try:
            rule = (
                route if isinstance(route, RouteConfig) else RouteConfig.model_validate(dict(route))
            )
            routes = [rule, *self.routing.routes] if first else [*self.routing.routes, rule]
            check_groups(routes, self.routing.default, self.routing.groups)
        except ValidationError as exc:
            raise RouteError(_validation_text(exc)) from None
        except ValueError as exc:
            raise RouteError(str(exc)) from None
        self.routing = self.routing.model_copy(update={"routes": routes})
        return rule

    def remove_route(self, name: str) -> None:
        routes = [r for r in self.routing.routes if r.name != name]
        if len(routes) == len(self.routing.routes):
            raise RouteError(f"no rule named {name!r}")
        self.routing = self.routing.model_copy(update={"routes": routes})

    @property
    def routes(self) -> tuple[RouteConfig, ...]:
        return tuple(self.routing.routes)

    def resolve(
        self,
        *,
        kind: str,
        fn: str | None,
        kwargs: Mapping[str, Any],
        run_id: str,
        agent: str,
        channel_addresses: Sequence[tuple[str, str]] = (),
    ) -> RouteDecision:
        return resolve_route(
            self.routing,
            kind=kind,
            fn=fn,
            kwargs=kwargs,
            run_id=run_id,
            agent=agent,
            channel_addresses=channel_addresses,
        )


def _validation_text(exc: Any) -> str:
    parts = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"]) or "route"
        parts.append(f"{key}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


# -- explanation ---------------------------------------------------------------------------------


def _list(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "-"


def explain(decision: RouteDecision) -> str:
    """A human-readable account of a decision (what `hl-email routes test` prints)."""
    if decision.source == "channel":
        source = "contact channel in the call"
        if decision.rule:
            source += f" (timers from {decision.rule!r})"
    elif decision.source == "rule":
        source = f"rule {decision.rule!r}"
    else:
        source = f"default route {decision.rule!r}"
    if decision.responders:
        answer = _list(decision.responders)
    else:
        answer = "any recipient"
    if decision.policy == "any":
        policy = "any (the first decisive answer wins)"
    elif decision.policy == "all":
        policy = f"all ({decision.quorum} must approve; one rejection rejects)"
    else:
        policy = f"quorum ({decision.quorum} approvals needed)"
    lines = [
        f"route:       {source}",
        f"to:          {_list(decision.to)}",
        f"cc:          {_list(decision.cc)}",
        f"bcc:         {_list(decision.bcc)}",
        f"may answer:  {answer}",
        f"policy:      {policy}",
        "timeout:     "
        + (
            f"{format_duration(decision.timeout)} (then the call is denied: timed out)"
            if decision.timeout is not None
            else "none (waits until answered)"
        ),
        f"reminders:   {_list([format_duration(r) for r in decision.reminders])}",
    ]
    if decision.working_hours:
        lines.append(
            f"work hours:  {decision.working_hours} {decision.tz or 'UTC'} "
            "(reminders wait for them)"
        )
    if decision.escalations:
        lines.append("escalations:")
        for step in decision.escalations:
            action = (
                f"add {_list(step.add)}" if step.add else f"hand over to {_list(step.handover)}"
            )
            note = f" ({step.message!r})" if step.message else ""
            lines.append(f"  after {format_duration(step.after)}: {action}{note}")
    else:
        lines.append("escalations: -")
    if decision.delegates:
        lines.append(
            "delegates:   " + _list([f"{a} -> {b}" for a, b in decision.delegates.items()])
        )
    if decision.language or decision.template_set:
        lines.append(f"language:    {decision.language or '-'}")
        lines.append(f"templates:   {decision.template_set or '-'}")
    if decision.mailbox:
        lines.append(f"mailbox:     {decision.mailbox}")
    lines.append("why:")
    lines.extend(f"  {line}" for line in decision.why)
    return "\n".join(lines)
