"""Routing rules: predicates, durations, precedence, responders and config validation; pure."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hl_email.config import ConfigError, load_config
from hl_email.errors import RequestInvalidError
from hl_email.routing import (
    EscalationStep,
    NoRouteError,
    RouteConfig,
    RouteError,
    Router,
    RoutingConfig,
    explain,
    format_duration,
    may_answer,
    parse_duration,
    parse_predicate,
    resolve_route,
)


def holds(text: str, **kwargs) -> bool:
    return parse_predicate(text).evaluate(kwargs)


# -- predicates: operators ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("amount == 500", {"amount": 500}, True),
        ("amount == 500", {"amount": 500.0}, True),
        ("amount == 500", {"amount": 499}, False),
        ("amount != 500", {"amount": 499}, True),
        ("amount != 500", {"amount": 500}, False),
        ("amount < 500", {"amount": 499.99}, True),
        ("amount < 500", {"amount": 500}, False),
        ("amount <= 500", {"amount": 500}, True),
        ("amount > 500", {"amount": 500}, False),
        ("amount > 500", {"amount": 501}, True),
        ("amount >= 500", {"amount": 500}, True),
        ("amount >= 500", {"amount": 499}, False),
        ("amount >= -1.5e2", {"amount": -150}, True),
        ("name < 'm'", {"name": "alice"}, True),
        ("country in ['DE', 'FR']", {"country": "FR"}, True),
        ("country in ['DE', 'FR']", {"country": "US"}, False),
        ("country not in ['DE', 'FR']", {"country": "US"}, True),
        ("country not in ['DE', 'FR']", {"country": "DE"}, False),
        ("code in [1, 2, 3,]", {"code": 2}, True),
        ("word in 'abcdef'", {"word": "cde"}, True),
        ("email ~ '*@EXAMPLE.test'", {"email": "Bob@example.TEST"}, True),
        ("email ~ '*@example.test'", {"email": "bob@example.org"}, False),
        ("sku ~ 'A-??'", {"sku": "a-12"}, True),
        ("sku matches '[A-Z]-[0-9]+'", {"sku": "A-123"}, True),
        ("sku matches '[A-Z]-[0-9]+'", {"sku": "A-123x"}, False),  # fullmatch
        ("sku matches '[A-Z]-[0-9]+'", {"sku": "a-123"}, False),  # case-sensitive
        ("sku matches '(?i)[A-Z]-[0-9]+'", {"sku": "a-123"}, True),
        ("flag == true", {"flag": True}, True),
        ("flag == false", {"flag": False}, True),
        ("flag == 1", {"flag": True}, False),  # booleans are not numbers
        ("note == null", {"note": None}, True),
        ("note != null", {"note": "x"}, True),
        ('name == "O\\"Brien"', {"name": 'O"Brien'}, True),
        ("name == 'it\\'s'", {"name": "it's"}, True),
        ("tags == ['a', 'b']", {"tags": ["a", "b"]}, True),
    ],
)
def test_operators(text, kwargs, expected):
    assert holds(text, **kwargs) is expected


def test_and_or_not_and_parentheses():
    text = "amount >= 500 or (country in ['DE', 'FR'] and not vip == true)"
    assert holds(text, amount=900)
    assert holds(text, amount=10, country="DE", vip=False)
    assert not holds(text, amount=10, country="DE", vip=True)
    assert not holds(text, amount=10, country="US", vip=False)
    # and binds tighter than or
    assert holds("a == 1 or a == 2 and b == 3", a=1, b=0)
    assert not holds("(a == 1 or a == 2) and b == 3", a=1, b=0)
    assert holds("not not a == 1", a=1)
    assert holds("a == 1 and b == 2 and c == 3", a=1, b=2, c=3)


def test_paths_dotted_and_indexed():
    kwargs = {
        "customer": {"country": "DE", "tier": {"name": "gold"}},
        "items": [{"sku": "A-1"}, {"sku": "B-2"}],
        "odd key": {"x": 1},
    }
    assert parse_predicate("customer.country == 'DE'").evaluate(kwargs)
    assert parse_predicate("customer.tier.name == 'gold'").evaluate(kwargs)
    assert parse_predicate("items[0].sku == 'A-1'").evaluate(kwargs)
    assert parse_predicate("items[-1].sku == 'B-2'").evaluate(kwargs)
    assert parse_predicate("items.1.sku == 'B-2'").evaluate(kwargs)
    assert not parse_predicate("items[5].sku == 'B-2'").evaluate(kwargs)
    assert parse_predicate("customer['country'] == 'DE'").evaluate(kwargs)


def test_paths_into_python_objects_read_data_attributes_only():
    @dataclass
    class Customer:
        country: str

        def secret(self) -> str:
            return "x"

    assert holds("c.country == 'DE'", c=Customer("DE"))
    assert not holds("c.secret != null", c=Customer("DE"))
    assert not holds("c._private == null", c=Customer("DE"))


def test_missing_paths_are_false_even_when_negated():
    assert not holds("amount >= 500")
    assert not holds("amount != 500")
    assert not holds("not amount >= 500")
    assert not holds("not (amount >= 500)")
    assert not holds("country not in ['DE']")
    assert not holds("customer.country == 'DE'", customer={})
    assert not holds("customer.country == 'DE'", customer="DE")
    assert not holds("items[0] == 1", items=[])
    # the other side of `or` can still make it true
    assert holds("amount >= 500 or vip == true", vip=True)
    # a missing path is not null
    assert not holds("note == null")


def test_type_mismatch_is_false_and_never_raises():
    assert not holds("amount >= 500", amount="abc")
    assert not holds("amount >= 500", amount="nine hundred")
    assert not holds("amount >= 500", amount="900 EUR")
    assert not holds("amount >= 500", amount="1,000")  # no thousands separators
    assert not holds("amount >= 500", amount="nan")
    assert not holds("amount == 'x'", amount=5)
    assert not holds("not amount >= 500", amount="abc")
    assert not holds("amount < 'm'", amount=5)
    assert not holds("amount >= 500", amount=None)
    assert not holds("amount >= 500", amount=[1])
    assert not holds("name ~ 'a*'", name=5)
    assert not holds("name matches 'a.*'", name=None)
    assert not holds("word in 'abc'", word=1)
    assert holds("amount != 'abc'", amount=5)  # unequal types are simply not equal

    class Hostile:
        def __eq__(self, other):
            raise RuntimeError("boom")

        __hash__ = object.__hash__

    assert parse_predicate("x in [1, 2]").evaluate({"x": Hostile()}) is False


def test_regex_subject_is_capped():
    assert not holds("s matches 'a*'", s="a" * 20_000)
    assert holds("s matches 'a*'", s="a" * 100)


def test_predicate_is_parsed_once_and_reusable():
    predicate = parse_predicate("amount >= 500 and customer.country in ['DE']")
    assert predicate.paths == ("amount", "customer.country")
    assert predicate.values({"amount": 1}) == "amount = 1, customer.country missing"
    assert predicate({"amount": 600, "customer": {"country": "DE"}})
    assert predicate == parse_predicate("amount >= 500 and customer.country in ['DE']")


# -- predicates: parse errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("amount >=", 9, "expected a value after '>=' at position 9"),
        ("amount >= 500 and", 17, "expected an argument name"),
        ("amount", 6, "expected an operator"),
        ("amount = 5", 7, "unexpected character '='"),
        ("amount >= 500 500", 14, "expected 'and', 'or' or the end"),
        ("(amount >= 500", 14, "expected ')'"),
        ("amount >= 500)", 13, "expected 'and', 'or' or the end"),
        ("country in ['DE', ", 18, "expected a value"),
        ("country in ['DE' 'FR']", 17, "expected ',' or ']'"),
        ("country in 5", 11, "needs a [list] or a quoted string"),
        ("country not 'DE'", 12, "expected 'in' after 'not'"),
        ("name == 'abc", 8, "unterminated string"),
        ("name == 'a\\qb'", 10, "unknown escape"),
        ("name ~ 5", 7, "needs a quoted pattern"),
        ("name matches '('", 13, "invalid regular expression"),
        ("amount >= [1]", 10, "needs a number or a quoted string"),
        ("items[x] == 1", 6, "expected an integer index or a quoted key"),
        ("customer. == 1", 10, "expected a field name"),
        ("", 0, "expected a condition"),
        ("and == 1", 0, "'and' is a reserved word"),
        ("x in [[1]]", 6, "expected a value"),
        ("5 == amount", 0, "expected an argument name"),
    ],
)
def test_parse_errors_name_position_and_expectation(text, position, fragment):
    with pytest.raises(RouteError) as info:
        parse_predicate(text)
    assert info.value.position == position, str(info.value)
    assert fragment in str(info.value)
    assert info.value.expected


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "__import__('os').system('id') == 0",
        "amount.__class__ == 1",
        "open('/etc/passwd') == 1",
        "eval('1') == 1",
        "amount >= 500; import os",
        "lambda: 1",
        "amount >= 5 if True else 1",
        "[c for c in ()] == 1",
        "amount >= 500 or os.system('id')",
        "amount + 1 > 2",
        "amount >= `id`",
    ],
)
def test_code_is_never_accepted(text):
    with pytest.raises(RouteError):
        parse_predicate(text)


def test_nesting_and_length_are_capped():
    with pytest.raises(RouteError, match="nested deeper"):
        parse_predicate("(" * 100 + "a == 1" + ")" * 100)
    with pytest.raises(RouteError, match="nested deeper"):
        parse_predicate("not " * 100 + "a == 1")
    with pytest.raises(RouteError, match="longer than"):
        parse_predicate("a == 1 or " * 300 + "a == 2")
    with pytest.raises(RouteError, match="longer than 200"):
        parse_predicate("a matches '" + "x" * 201 + "'")
    assert holds("(" * 10 + "a == 1" + ")" * 10, a=1)


# -- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("4h", 14400),
        ("1d", 86400),
        ("1h30m", 5400),
        ("1d2h3m4s", 93784),
        ("1h 30m", 5400),
        ("1.5h", 5400),
        ("2H", 7200),
        (3600, 3600),
        (0.5, 0.5),
        ("3600", 3600),
        (" 90s ", 90),
    ],
)
def test_parse_duration(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "4x", "h", "1m1h", "1h1h", "-5", "-5m", "soon", True, None])
def test_parse_duration_errors_name_the_text(value):
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert repr(value) in str(info.value)


def test_parse_duration_rejects_negative_and_infinite_numbers():
    for value in (-1, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            parse_duration(value)


def test_format_duration():
    assert [format_duration(s) for s in (5400, 90, 86400, 0.5, 0)] == [
        "1h30m",
        "1m30s",
        "1d",
        "0.5s",
        "0s",
    ]


# -- precedence --------------------------------------------------------------------------------


def routing(**extra) -> RoutingConfig:
    data = {
        "routes": [
            {
                "name": "big-refunds",
                "fn": "send_refund",
                "when": ["amount >= 500"],
                "to": ["alice@example.test", "bob@example.test"],
                "cc": ["audit@example.test"],
                "policy": "all",
                "timeout": "1d",
                "reminders": ["2h", "1h"],
                "escalations": [{"after": "4h", "add": ["lead@example.test"]}],
                "delegates": {"alice@example.test": "dave@example.test"},
            },
            {"name": "refunds", "fn": "send_*", "to": ["oncall@example.test"], "timeout": "4h"},
            {"name": "questions", "kind": "question", "to": ["helpdesk@example.test"]},
        ],
        "default": {"name": "fallback", "to": ["ops@example.test"], "timeout": 60},
    }
    data.update(extra)
    return RoutingConfig.model_validate(data)


def resolve(config: RoutingConfig, fn="send_refund", kind="approval", run_id="run-1", **kw):
    return resolve_route(
        config,
        kind=kind,
        fn=fn,
        kwargs=kw.pop("kwargs", {}),
        run_id=run_id,
        agent=kw.pop("agent", "Refund agent"),
        channel_addresses=kw.pop("channel", ()),
    )


def test_first_matching_rule_wins():
    decision = resolve(routing(), kwargs={"amount": 900})
    assert decision.source == "rule"
    assert decision.rule == "big-refunds"
    assert decision.to == ("alice@example.test", "bob@example.test")
    assert decision.cc == ("audit@example.test",)
    assert decision.policy == "all"
    assert decision.quorum == 3  # every answering recipient (cc included)
    assert decision.timeout == 86400
    assert decision.reminders == (3600, 7200)  # sorted
    assert decision.escalations == (EscalationStep(after=14400, add=["lead@example.test"]),)
    assert dict(decision.delegates) == {"alice@example.test": "dave@example.test"}
    assert any("'big-refunds' (routes[0]) matched" in line for line in decision.why)
    assert any("2 later rule(s) not checked" in line for line in decision.why)


def test_rule_order_decides_and_why_names_the_failed_condition():
    decision = resolve(routing(), kwargs={"amount": 20})
    assert decision.rule == "refunds"
    assert decision.to == ("oncall@example.test",)
    assert decision.policy == "any" and decision.quorum == 1
    assert decision.why[0] == (
        "rule 'big-refunds' (routes[0]) did not match: when[0] 'amount >= 500' is false "
        "(amount = 20)"
    )
    decision = resolve(routing(), kwargs={})
    assert "(amount missing)" in decision.why[0]


def test_default_route_when_no_rule_matches():
    decision = resolve(routing(), fn="delete_user")
    assert decision.source == "default"
    assert decision.rule == "fallback"
    assert decision.to == ("ops@example.test",)
    assert decision.timeout == 60
    assert "fn 'delete_user' does not match 'send_refund'" in decision.why[0]
    assert "kind is approval, rule wants question" in decision.why[2]
    assert decision.why[-1] == "default route 'fallback' used: no rule matched"


def test_channel_wins_for_recipients_but_timers_come_from_the_rule():
    channel = [("carol@example.test", "to"), ("Dan@Example.test", "cc")]
    decision = resolve(routing(), kwargs={"amount": 900}, channel=channel)
    assert decision.source == "channel"
    assert decision.to == ("carol@example.test",)
    assert decision.cc == ("dan@example.test",)
    assert decision.bcc == ()
    assert decision.responders == ()
    assert (decision.policy, decision.quorum) == ("any", 1)
    assert decision.rule == "big-refunds"
    assert decision.timeout == 86400
    assert decision.reminders == (3600, 7200)
    assert len(decision.escalations) == 1
    assert dict(decision.delegates) == {"alice@example.test": "dave@example.test"}
    assert decision.why[0].startswith("contact channel given in the call")


def test_channel_timers_fall_back_to_default_then_none():
    channel = [("carol@example.test", "to")]
    decision = resolve(routing(), fn="other", channel=channel)
    assert (decision.source, decision.rule, decision.timeout) == ("channel", "fallback", 60)
    bare = RoutingConfig()
    decision = resolve(bare, fn="other", channel=channel)
    assert (decision.source, decision.rule, decision.timeout) == ("channel", None, None)
    assert decision.reminders == () and decision.escalations == ()


def test_no_route_is_refused_with_a_clear_error():
    config = routing(default=None)
    with pytest.raises(NoRouteError) as info:
        resolve(config, fn="delete_user")
    message = str(info.value)
    assert message == (
        "no route for delete_user(...): no rule matched and no default route; "
        "add a [[routes]] rule or pass a contact_channel"
    )
    assert "fn 'delete_user' does not match 'send_refund'" in info.value.why[0]
    assert isinstance(info.value, RequestInvalidError)
    assert isinstance(info.value, RouteError)
    with pytest.raises(NoRouteError, match="no route for a question"):
        resolve(RoutingConfig(), fn=None, kind="question")


def test_globs_on_fn_run_id_kind_and_agent():
    config = RoutingConfig.model_validate(
        {
            "routes": [
                {"name": "agent", "agent": "billing*", "to": ["a@example.test"]},
                {"name": "run", "run_id": "nightly-*", "to": ["b@example.test"]},
                {"name": "q", "kind": "question", "to": ["c@example.test"]},
                {"name": "fn", "fn": "DELETE_?", "to": ["d@example.test"]},
                {"name": "fnset", "fn": "[xy]*", "to": ["e@example.test"]},
            ]
        }
    )
    assert resolve(config, agent="Billing Bot", fn="f").rule == "agent"
    assert resolve(config, run_id="NIGHTLY-42", fn="f").rule == "run"
    assert resolve(config, kind="question", fn=None).rule == "q"
    assert resolve(config, kind="human_contact", fn=None).rule == "q"  # gateway kind names too
    assert resolve(config, fn="delete_x").rule == "fn"
    assert resolve(config, fn="y_thing").rule == "fnset"
    with pytest.raises(NoRouteError):
        resolve(config, fn="delete_xy")
    with pytest.raises(RouteError, match="unknown request kind"):
        resolve(config, kind="poll")


def test_fn_rule_does_not_match_a_question():
    config = RoutingConfig.model_validate(
        {"routes": [{"name": "fn", "fn": "*", "to": ["a@example.test"]}]}
    )
    with pytest.raises(NoRouteError) as info:
        resolve(config, kind="question", fn=None)
    assert "no function name" in info.value.why[0]


def test_duplicate_recipients_keep_the_most_visible_field():
    config = RoutingConfig.model_validate(
        {
            "default": {
                "name": "d",
                "to": ["a@example.test", "A@example.test"],
                "cc": ["a@example.test", "b@example.test"],
                "bcc": ["b@example.test", "c@example.test"],
            }
        }
    )
    decision = resolve(config)
    assert (decision.to, decision.cc, decision.bcc) == (
        ("a@example.test",),
        ("b@example.test",),
        ("c@example.test",),
    )


# -- responders, groups, policies ---------------------------------------------------------------


def test_groups_and_domains_in_responders():
    config = RoutingConfig.model_validate(
        {
            "groups": {"finance": ["alice@example.test", "Bob@Example.test", "@fin.example.test"]},
            "default": {
                "name": "d",
                "to": ["alice@example.test", "bob@example.test", "carol@example.test"],
                "responders": ["group:finance", "@Managers.Example.test", "carol@example.test"],
                "policy": "quorum",
                "quorum": 2,
            },
        }
    )
    decision = resolve(config)
    assert decision.responders == (
        "alice@example.test",
        "bob@example.test",
        "@fin.example.test",
        "@managers.example.test",
        "carol@example.test",
    )
    assert (decision.policy, decision.quorum) == ("quorum", 2)
    recipients = decision.recipients
    assert may_answer(decision.responders, recipients, "ALICE@example.test")
    assert may_answer(decision.responders, recipients, "zed@fin.example.test")
    assert may_answer(decision.responders, recipients, "boss@managers.example.test")
    assert not may_answer(decision.responders, recipients, "x@sub.fin.example.test")
    assert not may_answer(decision.responders, recipients, "mallory@example.test")
    assert not may_answer(decision.responders, recipients, "mallory@evil-fin.example.test")


def test_may_answer_defaults_to_the_recipients():
    recipients = ["alice@example.test", "bob@example.test"]
    assert may_answer([], recipients, "Alice@Example.test")
    assert not may_answer([], recipients, "carol@example.test")
    assert not may_answer([], recipients, "")


def test_policy_all_counts_only_recipients_who_may_answer():
    config = RoutingConfig.model_validate(
        {
            "default": {
                "name": "d",
                "to": ["a@example.test", "b@example.test"],
                "cc": ["fyi@other.test"],
                "responders": ["@example.test"],
                "policy": "all",
            }
        }
    )
    assert resolve(config).quorum == 2


def test_warns_when_someone_asked_may_not_answer():
    config = RoutingConfig.model_validate(
        {
            "default": {
                "name": "d",
                "to": ["a@example.test"],
                "responders": ["a@example.test"],
                "escalations": [{"after": "1h", "handover": ["lead@example.test"]}],
            }
        }
    )
    decision = resolve(config)
    assert any("lead@example.test (escalations[0])" in line for line in decision.why)


# -- route validation --------------------------------------------------------------------------


def route(**extra) -> dict:
    return {"name": "r", "to": ["a@example.test"], **extra}


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"policy": "quorum"}, "policy 'quorum' needs quorum = N"),
        ({"policy": "quorum", "quorum": 0}, "quorum must be at least 1"),
        ({"policy": "quorum", "quorum": 2}, "quorum 2 can never be reached"),
        ({"quorum": 2}, "quorum is only used with policy = 'quorum'"),
        ({"to": []}, "at least one recipient"),
        ({"to": ["not-an-address"]}, "is not a valid email address"),
        ({"responders": ["@"]}, "is not a valid @domain"),
        ({"responders": ["group:bad name"]}, "not a valid group reference"),
        ({"timeout": "4h", "reminders": ["5h"]}, "reminders: 5h is not before the timeout (4h)"),
        ({"timeout": "1h", "escalations": [{"after": "1h", "add": ["b@example.test"]}]}, "1h"),
        ({"escalations": [{"after": "1h"}]}, "needs 'add' or 'handover'"),
        (
            {"escalations": [{"after": "1h", "add": ["b@x.test"], "handover": ["c@x.test"]}]},
            "not both",
        ),
        ({"timeout": "0s"}, "must be greater than zero"),
        ({"timeout": "soon"}, "invalid duration 'soon'"),
        ({"delegates": {"a@example.test": "a@example.test"}}, "cannot delegate to itself"),
        ({"policy": "majority"}, "Input should be 'any', 'all' or 'quorum'"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
        ({"name": " "}, "non-empty name"),
    ],
)
def test_route_validation(extra, fragment):
    with pytest.raises(ValueError) as info:
        RouteConfig.model_validate(route(**extra))
    assert fragment in str(info.value)


def test_routing_cross_checks():
    with pytest.raises(ValueError, match="routes.1.name: 'r' is already the name of rule 0"):
        RoutingConfig.model_validate({"routes": [route(), route()]})
    with pytest.raises(ValueError, match="routes.0.responders.0: unknown group 'finance'"):
        RoutingConfig.model_validate({"routes": [route(responders=["group:finance"])]})
    with pytest.raises(ValueError, match="default.quorum: 3 can never be reached: only 2 people"):
        RoutingConfig.model_validate(
            {
                "groups": {"two": ["a@example.test", "b@example.test"]},
                "default": route(responders=["group:two"], policy="quorum", quorum=3),
            }
        )
    with pytest.raises(ValueError, match="group 'empty' is empty"):
        RoutingConfig.model_validate({"groups": {"empty": []}})
    with pytest.raises(ValueError, match="groups cannot contain other groups"):
        RoutingConfig.model_validate({"groups": {"a": ["group:b"]}})
    with pytest.raises(ValueError, match="default.fn: the default route is used when no rule"):
        RoutingConfig.model_validate({"default": route(fn="send_*")})
    # an @domain makes the number of responders open-ended: any quorum is allowed
    RoutingConfig.model_validate(
        {"default": route(responders=["@example.test"], policy="quorum", quorum=5)}
    )


# -- Router (rules from Python) ------------------------------------------------------------------


def test_router_add_route_from_python():
    router = Router(routing())
    router.add_route(
        {"name": "vip", "when": ["vip == true"], "to": ["vip@example.test"]}, first=True
    )
    router.add_route(RouteConfig(name="last", to=["last@example.test"]))
    assert [r.name for r in router.routes] == ["vip", "big-refunds", "refunds", "questions", "last"]
    decision = router.resolve(
        kind="approval", fn="send_refund", kwargs={"vip": True}, run_id="r", agent="a"
    )
    assert decision.rule == "vip"
    with pytest.raises(RouteError, match="already the name"):
        router.add_route({"name": "vip", "to": ["x@example.test"]})
    with pytest.raises(RouteError, match=r"when\.0: expected a value after '>='"):
        router.add_route({"name": "bad", "when": ["amount >="], "to": ["x@example.test"]})
    router.remove_route("vip")
    assert router.routes[0].name == "big-refunds"
    with pytest.raises(RouteError, match="no rule named"):
        router.remove_route("vip")


def test_explain_lists_recipients_policy_timers_and_why():
    text = explain(resolve(routing(), kwargs={"amount": 900}))
    assert "route:       rule 'big-refunds'" in text
    assert "to:          alice@example.test, bob@example.test" in text
    assert "may answer:  any recipient" in text
    assert "policy:      all (3 must approve; one rejection rejects)" in text
    assert "timeout:     1d" in text
    assert "reminders:   1h, 2h" in text
    assert "after 4h: add lead@example.test" in text
    assert "alice@example.test -> dave@example.test" in text
    assert "why:\n  rule 'big-refunds' (routes[0]) matched" in text


# -- config file ---------------------------------------------------------------------------------

GOOD = """
[agent]
address = "agent@example.test"

[groups]
finance = ["alice@example.test", "bob@example.test", "carol@example.test"]

[[routes]]
name = "big-refunds"
fn = "send_refund"
when = ["amount >= 500", "currency in ['EUR', 'USD']"]
to = ["alice@example.test", "bob@example.test", "carol@example.test"]
responders = ["group:finance"]
policy = "quorum"
quorum = 2
timeout = "1d"
reminders = ["1h", "2h"]
escalations = [{ after = "4h", handover = ["lead@example.test"] }]

[default_route]
name = "on-call"
to = ["oncall@example.test"]
"""


def write(tmp_path, text):
    path = tmp_path / "hl-email.toml"
    path.write_text(text)
    return path


def test_config_file_loads_routes(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert [r.name for r in config.routes] == ["big-refunds"]
    assert config.routes[0].timeout == 86400
    assert config.default_route is not None and config.default_route.name == "on-call"
    assert config.groups["finance"][0] == "alice@example.test"
    router = Router.from_gateway_config(config)
    decision = router.resolve(
        kind="approval",
        fn="send_refund",
        kwargs={"amount": 900, "currency": "EUR"},
        run_id="",
        agent=config.agent.name,
    )
    assert (decision.rule, decision.policy, decision.quorum) == ("big-refunds", "quorum", 2)


def test_routing_imports_without_config_first():
    import subprocess
    import sys

    code = "import hl_email.routing, hl_email.config; print(hl_email.config.GatewayConfig)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_unvalidated_route_still_applies_its_conditions():
    rule = RouteConfig.model_construct(name="c", to=["a@example.test"], when=["amount >= 5"])
    assert [p.text for p in rule.predicates] == ["amount >= 5"]


def test_config_without_routes_is_fine(tmp_path):
    config = load_config(write(tmp_path, "[agent]\naddress = 'agent@example.test'\n"))
    assert config.routes == [] and config.default_route is None and config.groups == {}


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        (
            '"currency in',
            '"amount >=", "currency in',
            "routes.0.when.1: expected a value after '>=' at position 9",
        ),
        ('timeout = "1d"', 'timeout = "1 day"', "routes.0.timeout: invalid duration '1 day'"),
        ('reminders = ["1h", "2h"]', 'reminders = ["1h", "x"]', "routes.0.reminders.1: invalid"),
        (
            'to = ["alice@example.test", "bob@example.test"',
            'to = ["alice@example.test", "bob@"',
            "routes.0.to.1: 'bob@' is not a valid",
        ),
        ('"group:finance"', '"group:fin"', "routes.0.responders.0: unknown group 'fin'"),
        (
            'fn = "send_refund"',
            'fn = "send_refund"\ncolour = "red"',
            "routes.0.colour: unknown key",
        ),
        ('handover = ["lead', 'handover = ["lead@', "routes.0.escalations.0.handover.0"),
        ('name = "on-call"', 'name = "on-call"\npolicy = "quorum"', "default_route: policy"),
        ('name = "on-call"', 'name = "on-call"\nwhen = ["a == 1"]', "default_route.when: the"),
        ("quorum = 2", "quorum = 4", "\n  routes.0.quorum: 4 can never be reached: only 3"),
        ('finance = ["alice', 'finance = ["@", "alice', "groups.finance.0: '@' is not a valid"),
    ],
)
def test_config_errors_name_the_key(tmp_path, replace, by, expected):
    assert replace in GOOD
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, GOOD.replace(replace, by, 1)))
    assert expected in str(info.value)


def test_numeric_strings_compare_as_numbers_when_the_literal_is_a_number():
    assert holds("amount >= 500", amount="900")
    assert holds("amount >= 500", amount=" 900.50 ")
    assert holds("amount >= 500", amount="1e3")
    assert not holds("amount >= 500", amount="499.99")
    assert holds("amount < 0", amount="-3")
    assert holds("amount == 900", amount="900.0")
    assert not holds("amount != 900", amount="900")
    assert holds("amount in [100, 900]", amount="900")
    assert holds("amount not in [100, 200]", amount="900")
    # A text literal keeps text semantics: "900" vs '1000' is code-point order.
    assert holds("amount > '1000'", amount="900")
    assert not holds("amount == '900.0'", amount="900")
    # Booleans are never numbers, and numbers are not turned into text.
    assert not holds("flag == 1", flag="true")
    assert not holds("code == '7'", code=7)


def test_type_notes_name_coercions_and_mismatches():
    predicate = parse_predicate("amount >= 500 and note ~ 'a*' and size < 'm'")
    notes = predicate.type_notes({"amount": "nine hundred", "note": 5, "size": 3})
    assert any("type mismatch: amount is text ('nine hundred'), not a number" in n for n in notes)
    assert any("note is a number (5); ~ needs text" in n for n in notes)
    assert any("size is a number (3), compared with text 'm'" in n for n in notes)
    coerced = parse_predicate("amount >= 500").type_notes({"amount": "900"})
    assert coerced == ("amount '900' is text, compared as the number it spells",)
    assert parse_predicate("amount >= 500").type_notes({"amount": 900}) == ()
    assert parse_predicate("amount >= 500").type_notes({}) == ()
