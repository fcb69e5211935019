"""The predicate language of `when` conditions: tokenizer, parser, syntax tree, three-valued
evaluation over a call's arguments, and what `routes test` says about types (docs/routing.md)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..errors import RouteError

__all__ = [
    "MAX_NESTING",
    "MAX_PREDICATE_LENGTH",
    "MAX_REGEX_LENGTH",
    "MAX_REGEX_SUBJECT",
    "Predicate",
    "parse_predicate",
    "predicate_text",
]


# -- tokenizer ---------------------------------------------------------------------

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


# -- syntax tree and evaluation ----------------------------------------------------

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


# -- parser --------------------------------------------------------------------------


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


def predicate_text(value: str) -> str:
    """For a `when` field validator: the text unchanged, or ValueError saying what is wrong."""
    try:
        parse_predicate(value)
    except RouteError as exc:
        raise ValueError(f"{exc} (in {value!r})") from None
    return value
