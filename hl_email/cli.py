"""`hl-email serve | requests list | requests show` (and more as the gateway grows)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from datetime import UTC, datetime
from typing import Any

from .config import ConfigError, GatewayConfig, load_config

__all__ = ["main"]


def _load(path: str | None) -> GatewayConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"hl-email: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


async def _serve(config: GatewayConfig, *, with_api: bool) -> int:
    from .gateway import Gateway

    gateway = Gateway(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # pragma: no cover - Windows
            pass
    await gateway.start()
    server_task = None
    try:
        if with_api:
            try:
                from .api import serve_api
            except ImportError:
                serve_api = None  # type: ignore[assignment]
            if serve_api is not None:
                server_task = asyncio.create_task(serve_api(gateway, config, stop))
        print(
            f"hl-email: gateway running as {config.agent.address} "
            f"(SMTP {config.smtp.host}:{config.smtp.port}, IMAP {config.imap.host}:{config.imap.port}"
            f"/{config.imap.folder}, store {config.store.url}); Ctrl-C to stop",
            flush=True,
        )
        await stop.wait()
    finally:
        print("hl-email: shutting down…", flush=True)
        if server_task is not None:
            server_task.cancel()
            try:
                await server_task
            except (asyncio.CancelledError, Exception):
                pass
        await gateway.stop()
    return 0


def _fmt_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _summary(row: Any) -> str:
    spec = row.spec
    if row.kind == "function_call":
        what = f"approve {spec.get('fn')}"
        status = row.status
        if row.state == "done":
            result = "approved" if status.get("approved") else f"rejected: {status.get('comment')}"
        else:
            result = row.state
    else:
        what = (
            "question: " + (spec.get("msg") or "").splitlines()[0][:40]
            if spec.get("msg")
            else "question"
        )
        result = "answered" if row.state == "done" else row.state
    return f"{row.call_id:<28} {_fmt_time(row.created_at):<20} {result:<30.30} {what}"


async def _requests(config: GatewayConfig, args: argparse.Namespace) -> int:
    from .store import open_store

    store = open_store(config.store.url, base_dir=config.base_dir)
    await store.open()
    try:
        if args.requests_cmd == "list":
            rows = await store.list_requests(state=args.state, limit=args.limit)
            if args.json:
                print(json.dumps([_row_json(r) for r in rows], indent=2))
                return 0
            if not rows:
                print("no requests")
                return 0
            print(f"{'CALL ID':<28} {'CREATED (UTC)':<20} {'STATE':<30} WHAT")
            for row in rows:
                print(_summary(row))
            return 0
        row = await store.get_request(call_id=args.call_id)
        if row is None:
            print(f"hl-email: no request with call_id {args.call_id!r}", file=sys.stderr)
            return 1
        recipients = await store.get_recipients(row.id)
        inbound = await store.list_inbound(request_id=row.id)
        outbox = await store.outbox_for_request(row.id)
        data = _row_json(row)
        data["recipients"] = [
            {"address": r.address, "field": r.field, "state": r.state, "error": r.error}
            for r in recipients
        ]
        data["outbox"] = [
            {
                "purpose": o.purpose,
                "to": o.rcpt_to,
                "state": o.state,
                "attempts": o.attempts,
                "last_error": o.last_error,
                "message_id": o.message_id,
            }
            for o in outbox
        ]
        data["inbound"] = [
            {
                "received_at": _fmt_time(i.received_at),
                "from": i.from_address,
                "outcome": i.outcome,
                "detail": i.detail,
            }
            for i in inbound
        ]
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    finally:
        await store.close()


def _row_json(row: Any) -> dict[str, Any]:
    return {
        "call_id": row.call_id,
        "run_id": row.run_id,
        "kind": row.kind,
        "state": row.state,
        "created_at": _fmt_time(row.created_at),
        "resolved_at": _fmt_time(row.resolved_at),
        "spec": row.spec,
        "status": row.status,
    }


def _routes_test(args: argparse.Namespace) -> int:
    """`hl-email routes test`: where would this call go, and why; no mail is sent."""
    from .config import normalize_address
    from .routing import NoRouteError, RouteError, Router, explain

    try:
        kwargs = json.loads(args.kwargs)
    except json.JSONDecodeError as exc:
        print(f"hl-email: --kwargs is not valid JSON: {exc}", file=sys.stderr)
        return 2
    if not isinstance(kwargs, dict):
        print("hl-email: --kwargs must be a JSON object, e.g. '{\"amount\": 900}'", file=sys.stderr)
        return 2
    if args.kind == "approval" and not args.fn:
        print("hl-email: --fn is required for --kind approval", file=sys.stderr)
        return 2
    config = _load(args.config)
    channel: list[tuple[str, str]] = []
    for entry in args.channel or []:
        field, sep, address = entry.partition(":")
        if not sep or field not in ("to", "cc", "bcc"):
            field, address = "to", entry
        try:
            channel.append((normalize_address(address, field="--channel"), field))
        except ValueError as exc:
            print(f"hl-email: {exc}", file=sys.stderr)
            return 2
    router = Router.from_gateway_config(config)
    try:
        decision = router.resolve(
            kind=args.kind,
            fn=args.fn if args.kind == "approval" else None,
            kwargs=kwargs,
            run_id=args.run_id,
            agent=args.agent if args.agent is not None else config.agent.name,
            channel_addresses=channel,
        )
    except NoRouteError as exc:
        print(f"no route: {exc}")
        print("why:")
        for line in exc.why:
            print(f"  {line}")
        return 1
    except RouteError as exc:
        print(f"hl-email: {exc}", file=sys.stderr)
        return 2
    if args.json:
        data = {
            name: getattr(decision, name)
            for name in ("source", "rule", "policy", "quorum", "timeout", "language")
        }
        data.update(
            to=list(decision.to),
            cc=list(decision.cc),
            bcc=list(decision.bcc),
            responders=list(decision.responders),
            reminders=list(decision.reminders),
            escalations=[step.model_dump() for step in decision.escalations],
            delegates=dict(decision.delegates),
            template_set=decision.template_set,
            why=list(decision.why),
        )
        print(json.dumps(data, indent=2))
    else:
        print(explain(decision))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hl-email",
        description="Self-hosted gateway that lets AI agents ask humans for approval by email.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve", help="run the gateway (outbox, IMAP watcher, HTTP API) until Ctrl-C"
    )
    serve.add_argument("--config", "-c", help="TOML config file (env HL_EMAIL_* overrides it)")
    serve.add_argument("--no-api", action="store_true", help="do not start the HTTP API")

    requests = sub.add_parser("requests", help="inspect stored requests")
    requests.add_argument("--config", "-c", help="TOML config file")
    rsub = requests.add_subparsers(dest="requests_cmd", required=True, metavar="ACTION")
    lst = rsub.add_parser("list", help="list recent requests")
    lst.add_argument("--config", "-c", default=argparse.SUPPRESS, help="TOML config file")
    lst.add_argument("--state", choices=["pending", "done", "failed"], help="only this state")
    lst.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    lst.add_argument("--json", action="store_true", help="print JSON")
    show = rsub.add_parser("show", help="show one request with recipients, emails and replies")
    show.add_argument("call_id", help="the call_id of the request")
    show.add_argument("--config", "-c", default=argparse.SUPPRESS, help="TOML config file")

    dev = sub.add_parser(
        "dev", help="run a sandbox: gateway, local SMTP capture, web inbox and API; no mail account"
    )
    dev.add_argument(
        "--port", type=int, default=8040, help="HTTP port for the API and inbox (default 8040)"
    )
    dev.add_argument(
        "--data-dir",
        default=".hl-email-dev",
        help="where mail and the database live (default ./.hl-email-dev)",
    )
    dev.add_argument(
        "--agent-address",
        default="agent@hl-email.test",
        help="the agent's address (default agent@hl-email.test)",
    )

    doctor = sub.add_parser("doctor", help="check SMTP, IMAP and a real round trip for a config")
    doctor.add_argument("--config", "-c", help="TOML config file (env HL_EMAIL_* overrides it)")
    doctor.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the test message (default 60)",
    )
    oauth = sub.add_parser("oauth", help="OAuth2 for IMAP/SMTP (Gmail, Microsoft 365)")
    oauth_sub = oauth.add_subparsers(dest="oauth_cmd", required=True, metavar="ACTION")
    login = oauth_sub.add_parser(
        "login", help="sign in once and store the refresh token (encrypted) in the store"
    )
    login.add_argument("--config", "-c", help="TOML config file (env HL_EMAIL_* overrides it)")
    login.add_argument("--provider", choices=["google", "microsoft", "custom"], required=True)
    login.add_argument(
        "--flow",
        choices=["loopback", "device"],
        help="loopback redirect (default for google) or device code (default for microsoft)",
    )
    routes = sub.add_parser("routes", help="check routing rules ([[routes]]) without sending mail")
    routes_sub = routes.add_subparsers(dest="routes_cmd", required=True, metavar="ACTION")
    rtest = routes_sub.add_parser(
        "test", help="show who would be asked for a call, under which policy, and why"
    )
    rtest.add_argument("--config", "-c", help="TOML config file (env HL_EMAIL_* overrides it)")
    rtest.add_argument("--fn", help="function name (required for approvals)")
    rtest.add_argument("--kwargs", default="{}", help="the call's arguments as a JSON object")
    rtest.add_argument("--kind", choices=["approval", "question"], default="approval")
    rtest.add_argument("--run-id", default="", help="the agent's run_id (default empty)")
    rtest.add_argument("--agent", help="agent name (default: agent.name from the config)")
    rtest.add_argument(
        "--channel",
        action="append",
        metavar="ADDRESS",
        help="an explicit contact channel address (repeatable; prefix cc: or bcc: for those)",
    )
    rtest.add_argument("--json", action="store_true", help="print the decision as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "serve":
        config = _load(args.config)
        from .credentials import credential_problems

        problems = credential_problems(config)
        if problems:
            print("hl-email: refusing to start:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 2
        return asyncio.run(_serve(config, with_api=not args.no_api))
    if args.command == "requests":
        config = _load(args.config)
        return asyncio.run(_requests(config, args))
    if args.command == "dev":
        from .sandbox import run_dev

        return asyncio.run(
            run_dev(port=args.port, data_dir=args.data_dir, agent_address=args.agent_address)
        )
    if args.command == "doctor":
        from .doctor import run_doctor

        config = _load(args.config)
        return asyncio.run(run_doctor(config, wait_seconds=args.timeout))
    if args.command == "routes":
        return _routes_test(args)
    if args.command == "oauth":
        from .oauth import run_login

        config = _load(args.config)
        return asyncio.run(run_login(config, provider=args.provider, flow=args.flow))
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
