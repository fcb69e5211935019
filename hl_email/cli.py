"""`hl-email serve | dev | mcp | doctor | requests … | routes test | oauth login`.

Start-up matters here (`--help`, `dev`): this module imports only the standard library at import
time; each command imports what it needs when it runs (config and pydantic included).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from .config import GatewayConfig

__all__ = ["main"]


def _load(path: str | None) -> GatewayConfig:
    from .config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"hl-email: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


async def _serve(config: GatewayConfig, *, with_api: bool) -> int:
    """Run until a signal; a part that cannot start is a non-zero exit that names it."""
    import asyncio
    import signal

    from .gateway import Gateway

    try:
        gateway = Gateway(config)
    except Exception as exc:
        print(f"hl-email serve: cannot set up the gateway: {exc}", file=sys.stderr, flush=True)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # pragma: no cover - Windows
            pass
    try:
        await gateway.start()
    except Exception as exc:
        print(
            f"hl-email serve: cannot start the gateway (store {config.store.url}): {exc}",
            file=sys.stderr,
            flush=True,
        )
        await gateway.stop()
        return 1
    server = None
    try:
        if with_api:
            from .api import ApiServer

            server = ApiServer(gateway, config)
            try:
                await server.start()
            except Exception as exc:
                # Never run without the API the agent expects: whatever holds the port would
                # answer it instead.
                print(
                    f"hl-email serve: the HTTP API cannot start: {exc}\n"
                    "  Is another hl-email (or another program) using that port? Set [api] port, "
                    "or run with --no-api.",
                    file=sys.stderr,
                    flush=True,
                )
                server = None
                return 1
        api = f", API {server.base_url}" if server is not None else ""
        print(
            f"hl-email: gateway running as {config.agent.address} "
            f"(SMTP {config.smtp.host}:{config.smtp.port}, IMAP {config.imap.host}:{config.imap.port}"
            f"/{config.imap.folder}, store {config.store.url}{api}); Ctrl-C to stop",
            flush=True,
        )
        await stop.wait()
    finally:
        print("hl-email: shutting down…", flush=True)
        if server is not None:
            await server.stop()
        await gateway.stop()
    return 0


def _arun(main: Coroutine[Any, Any, int]) -> int:
    import asyncio

    return asyncio.run(main)


def _fmt_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _result(row: Any) -> str:
    """The state a person reads: approved, rejected: reason, answered, cancelled, pending…"""
    status = row.status or {}
    if status.get("cancelled"):
        return "cancelled"
    if row.state == "failed":
        return f"failed: {status.get('error') or ''}".rstrip(": ")
    if row.state != "done":
        return row.state
    if row.kind == "function_call":
        if status.get("approved"):
            return "approved"
        return f"rejected: {status.get('comment') or ''}".rstrip(": ")
    return "answered"


def _what(row: Any) -> str:
    spec = row.spec
    if row.kind == "function_call":
        return f"approve {spec.get('fn')}"
    first = (spec.get("msg") or "").strip().splitlines()
    return "question: " + first[0][:60] if first else "question"


def _table(rows: list[list[str]], *, max_width: int = 40) -> str:
    """Columns as wide as their widest cell (capped, with an ellipsis), two spaces apart; the
    last column is never cut."""

    def cut(cell: str) -> str:
        return cell if len(cell) <= max_width else cell[: max_width - 1] + "…"

    cells = [[cut(c) for c in r[:-1]] + [r[-1]] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]) - 1)]
    lines = []
    for r in cells:
        padded = [c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)]
        lines.append("  ".join([*padded, r[-1]]).rstrip())
    return "\n".join(lines)


def _store_config(args: argparse.Namespace) -> GatewayConfig:
    """The config a `requests` command reads: --dev is the sandbox's store, else --config/env."""
    if getattr(args, "dev", False):
        from .sandbox import sandbox_store_path

        config = _load(None)
        config.store.url = f"sqlite:///{sandbox_store_path(args.data_dir)}"
        config.base_dir = None
        return config
    return _load(getattr(args, "config", None))


def _missing_store(config: GatewayConfig, args: argparse.Namespace) -> str | None:
    """Why there is nothing to read, or None: a read command never creates an empty store."""
    url = config.store.url
    if not url.startswith("sqlite:") or config.sqlite_path == ":memory:":
        return None
    path = Path(config.sqlite_path)
    if path.exists():
        return None
    if getattr(args, "dev", False):
        return (
            f"no sandbox store at {path}: start `hl-email dev` first (or pass the --data-dir "
            "it was started with)"
        )
    return (
        f"no store at {path} (store.url {url!r}): pass --config with the gateway's config file, "
        "or --dev for the `hl-email dev` sandbox"
    )


async def _requests(config: GatewayConfig, args: argparse.Namespace) -> int:
    from .store import open_store

    missing = _missing_store(config, args)
    if missing is not None:
        print(f"hl-email: {missing}", file=sys.stderr)
        return 1
    if args.requests_cmd == "cancel":
        return await _cancel(config, args)
    if args.requests_cmd == "purge-raw":
        return await _purge(config)
    store = open_store(config.store.url, base_dir=config.base_dir)
    await store.open()
    try:
        if args.requests_cmd == "export":
            from .retention import dumps, export_requests

            async for record in export_requests(store):
                sys.stdout.write(dumps(record) + "\n")
            return 0
        if args.requests_cmd == "list":
            rows = await store.list_requests(state=args.state, limit=args.limit)
            if args.json:
                print(json.dumps([_row_json(r) for r in rows], indent=2))
                return 0
            if not rows:
                print("no requests")
                return 0
            table = [["CALL ID", "CREATED (UTC)", "STATE", "WHAT"]]
            table += [[r.call_id, _fmt_time(r.created_at), _result(r), _what(r)] for r in rows]
            print(_table(table))
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
                "created_at": _fmt_time(o.created_at),
                "sent_at": _fmt_time(o.sent_at),
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
        if args.json:
            print(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            print(_show_text(row, data))
        return 0
    finally:
        await store.close()


def _show_text(row: Any, data: dict[str, Any]) -> str:
    """`requests show`: what was asked, of whom, what happened, in the order it happened."""
    spec = row.spec
    lines = [f"{row.call_id}  ({'approval' if row.kind == 'function_call' else 'question'})"]
    lines.append(f"  state:    {_result(row)}")
    if row.kind == "function_call":
        args = ", ".join(
            f"{k}={json.dumps(v, ensure_ascii=False)}"
            for k, v in (spec.get("kwargs") or {}).items()
        )
        lines.append(f"  asks:     {spec.get('fn')}({args})")
    else:
        lines.append(f"  asks:     {(spec.get('msg') or '').strip()[:200]}")
    if row.subject:
        lines.append(f"  subject:  {row.subject}")
    lines.append(f"  run:      {row.run_id or '-'}")
    lines.append(f"  created:  {data['created_at']} UTC")
    if row.resolved_at is not None:
        lines.append(f"  resolved: {data['resolved_at']} UTC")
    route = row.route or {}
    if route.get("rule") or route.get("policy"):
        lines.append(
            f"  route:    {route.get('rule') or route.get('source') or '-'}"
            f" (policy {route.get('policy', 'any')}, quorum {route.get('quorum') or 1})"
        )
    status = row.status or {}
    for key in ("comment", "response", "error"):
        if status.get(key):
            lines.append(f"  {key + ':':<9} {status[key]}")
    lines.append("")
    lines.append("recipients:")
    table = [["ADDRESS", "FIELD", "STATE", "ERROR"]]
    table += [[r["address"], r["field"], r["state"], r["error"] or ""] for r in data["recipients"]]
    lines += ["  " + line for line in _table(table, max_width=60).splitlines()]
    lines.append("")
    lines.append("emails sent:")
    table = [["PURPOSE", "TO", "STATE", "SENT (UTC)", "ERROR"]]
    table += [
        [o["purpose"], ", ".join(o["to"]), o["state"], o["sent_at"], o["last_error"] or ""]
        for o in data["outbox"]
    ]
    lines += ["  " + line for line in _table(table, max_width=60).splitlines()]
    lines.append("")
    lines.append("replies received:")
    if data["inbound"]:
        table = [["RECEIVED (UTC)", "FROM", "OUTCOME", "DETAIL"]]
        table += [
            [i["received_at"], i["from"] or "?", i["outcome"], i["detail"] or ""]
            for i in data["inbound"]
        ]
        lines += ["  " + line for line in _table(table, max_width=60).splitlines()]
    else:
        lines.append("  none yet")
    lines.append("")
    lines.append("(--json prints everything as JSON)")
    return "\n".join(lines)


async def _purge(config: GatewayConfig) -> int:
    import time

    from .retention import purge_raw_mail
    from .store import open_store

    if not config.store.keep_raw_mail:
        print("hl-email: [store] keep_raw_mail is not set; nothing to purge", file=sys.stderr)
        return 2
    store = open_store(config.store.url, base_dir=config.base_dir)
    await store.open()
    try:
        inbound, outbox = await purge_raw_mail(
            store, older_than=config.store.keep_raw_mail, now=time.time()
        )
    finally:
        await store.close()
    print(f"purged {inbound} raw replies and {outbox} sent email bodies")
    return 0


async def _cancel(config: GatewayConfig, args: argparse.Namespace) -> int:
    """`requests cancel ID`: through the running gateway's API when one answers (its outbox
    tells the people asked at once, and its waiters wake); otherwise in the store, and the
    "no longer needed" emails go out when the gateway next runs."""
    from urllib.parse import quote

    import httpx

    from .api import API_PREFIX
    from .errors import NotFoundError, RequestInvalidError
    from .gateway import Gateway

    if getattr(args, "dev", False):
        from .sandbox import DEFAULT_PORT

        base = args.api_url or f"http://127.0.0.1:{DEFAULT_PORT}{API_PREFIX}"
        # The sandbox keeps the API key it generated beside its store.
        key_file = Path(args.data_dir) / "api_key"
        key: str | None = (
            key_file.read_text(encoding="utf-8").strip() if key_file.exists() else None
        )
    else:
        host = config.api.host if config.api.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        base = args.api_url or f"http://{host}:{config.api.port}{API_PREFIX}"
        key = config.api.api_keys[0] if config.api.api_keys else None
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    call_id = args.call_id
    async with httpx.AsyncClient(timeout=10, headers=headers) as client:
        for coll in ("function_calls", "human_contacts"):
            url = f"{base.rstrip('/')}/agent/{coll}/{quote(call_id, safe='')}/cancel"
            try:
                resp = await client.post(url, json={"reason": args.reason})
            except httpx.TransportError:
                break  # no gateway listening: cancel in the store
            if resp.status_code == 404:
                continue  # the other kind, or no such call (the store says which)
            if resp.status_code == 200:
                print(f"cancelled {call_id} (through the gateway at {base})")
                return 0
            try:
                detail = resp.json().get("detail") or resp.text
            except ValueError:
                detail = resp.text
            print(f"hl-email: {base}: {resp.status_code}: {detail}", file=sys.stderr)
            return 1
    gateway = Gateway(config)
    await gateway.start(inbound=False, outbox=False, timers=False)
    try:
        await gateway.cancel(call_id, args.reason, by="an operator (hl-email requests cancel)")
    except (NotFoundError, RequestInvalidError) as exc:
        print(f"hl-email: {exc}", file=sys.stderr)
        return 1
    finally:
        await gateway.stop()
    print(
        f"cancelled {call_id} in the store {config.store.url} (no gateway answered at {base}; "
        "the people asked are told when the gateway next runs)"
    )
    return 0


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
            for name in (
                "source",
                "rule",
                "policy",
                "quorum",
                "timeout",
                "language",
                "working_hours",
                "tz",
            )
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


def _mcp(args: argparse.Namespace) -> int:
    """`hl-email mcp`: stdout is the MCP protocol, so every log line goes to stderr."""
    try:
        from .api.mcp_server import run_stdio
    except ImportError as exc:
        print(
            f"hl-email: the MCP server needs the mcp extra (pip install 'hl-email[mcp]'): {exc}",
            file=sys.stderr,
        )
        return 2
    import os

    config = _load(args.config)
    if not args.api_base_url:  # the gateway runs here: the same start-up checks as `serve`
        from .credentials import credential_problems

        problems = credential_problems(config)
        if problems:
            print("hl-email: refusing to start:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 2
    return _arun(
        run_stdio(
            config,
            api_base_url=args.api_base_url,
            api_key=os.environ.get("HUMANLAYER_API_KEY"),
        )
    )


def _store_args(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """--config / --dev / --data-dir, accepted before or after the action."""
    default: Any = None if top else argparse.SUPPRESS
    parser.add_argument("--config", "-c", default=default, help="TOML config file")
    parser.add_argument(
        "--dev",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="read the `hl-email dev` sandbox's store (<data-dir>/hl-email.db)",
    )
    parser.add_argument(
        "--data-dir",
        default=".hl-email-dev" if top else argparse.SUPPRESS,
        help="the sandbox's --data-dir, with --dev (default ./.hl-email-dev)",
    )


_CONFIG_HELP = "TOML config file (env HL_EMAIL_* overrides it)"


def _add_serve(sub: Any) -> None:
    serve = sub.add_parser(
        "serve", help="run the gateway (outbox, IMAP watcher, HTTP API) until Ctrl-C"
    )
    serve.add_argument("--config", "-c", help=_CONFIG_HELP)
    serve.add_argument("--no-api", action="store_true", help="do not start the HTTP API")
    serve.set_defaults(run=_run_serve)


def _add_mcp(sub: Any) -> None:
    mcp = sub.add_parser(
        "mcp", help="run the MCP server on stdin/stdout (for Claude Code and other MCP clients)"
    )
    mcp.add_argument("--config", "-c", help=_CONFIG_HELP)
    mcp.add_argument(
        "--api-base-url",
        help="use a running `hl-email serve` (e.g. http://127.0.0.1:8040/humanlayer/v1) instead "
        "of a gateway in this process; the key comes from HUMANLAYER_API_KEY",
    )
    mcp.set_defaults(run=_mcp)


def _add_requests(sub: Any) -> None:
    requests = sub.add_parser("requests", help="inspect, cancel and export stored requests")
    _store_args(requests, top=True)
    requests.set_defaults(run=_run_requests)
    rsub = requests.add_subparsers(dest="requests_cmd", required=True, metavar="ACTION")
    lst = rsub.add_parser("list", help="list recent requests")
    _store_args(lst)
    lst.add_argument("--state", choices=["pending", "done", "failed"], help="only this state")
    lst.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    lst.add_argument("--json", action="store_true", help="print JSON")
    show = rsub.add_parser("show", help="show one request with recipients, emails and replies")
    show.add_argument("call_id", help="the call_id of the request")
    _store_args(show)
    show.add_argument("--json", action="store_true", help="print everything as JSON")
    export = rsub.add_parser(
        "export", help="every request with its emails and replies, one JSON object per line"
    )
    _store_args(export)
    export.add_argument(
        "--jsonl", action="store_true", required=True, help="JSON lines on stdout (for audit)"
    )
    purge = rsub.add_parser(
        "purge-raw", help="drop raw mail older than [store] keep_raw_mail (outcomes stay)"
    )
    _store_args(purge)
    cancel = rsub.add_parser(
        "cancel",
        help="cancel a pending request: the people asked are told it is no longer needed",
    )
    cancel.add_argument("call_id", help="the call_id of the request")
    _store_args(cancel)
    cancel.add_argument("--reason", default="", help="why (shown to the agent, stored)")
    cancel.add_argument(
        "--api-url",
        help="the running gateway's API (default: from [api] host/port; with --dev the "
        "sandbox's http://127.0.0.1:8040/humanlayer/v1)",
    )


def _add_dev(sub: Any) -> None:
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
        default=None,
        help="the agent's address (default: [agent] address of --config, else agent@hl-email.test)",
    )
    dev.add_argument(
        "--config",
        "-c",
        help="TOML config whose routes, default route, quorum, reminders, templates and "
        "languages the sandbox uses (its SMTP, IMAP and store settings are replaced by the "
        "sandbox's)",
    )
    dev.set_defaults(run=_run_dev)


def _add_doctor(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="check SMTP, IMAP and a real round trip for a config")
    doctor.add_argument("--config", "-c", help=_CONFIG_HELP)
    doctor.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the test message (default 60)",
    )
    doctor.set_defaults(run=_run_doctor)


def _add_oauth(sub: Any) -> None:
    oauth = sub.add_parser("oauth", help="OAuth2 for IMAP/SMTP (Gmail, Microsoft 365)")
    oauth.set_defaults(run=_run_oauth)
    oauth_sub = oauth.add_subparsers(dest="oauth_cmd", required=True, metavar="ACTION")
    login = oauth_sub.add_parser(
        "login", help="sign in once and store the refresh token (encrypted) in the store"
    )
    login.add_argument("--config", "-c", help=_CONFIG_HELP)
    login.add_argument("--provider", choices=["google", "microsoft", "custom"], required=True)
    login.add_argument(
        "--flow",
        choices=["loopback", "device"],
        help="loopback redirect (default for google) or device code (default for microsoft)",
    )


def _add_routes(sub: Any) -> None:
    routes = sub.add_parser("routes", help="check routing rules ([[routes]]) without sending mail")
    routes.set_defaults(run=_routes_test)
    routes_sub = routes.add_subparsers(dest="routes_cmd", required=True, metavar="ACTION")
    rtest = routes_sub.add_parser(
        "test", help="show who would be asked for a call, under which policy, and why"
    )
    rtest.add_argument("--config", "-c", help=_CONFIG_HELP)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hl-email",
        description="Self-hosted gateway that lets AI agents ask humans for approval by email.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument(
        "--log-json", action="store_true", help="log JSON lines (ts, level, logger, message)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        _add_serve,
        _add_mcp,
        _add_requests,
        _add_dev,
        _add_doctor,
        _add_oauth,
        _add_routes,
    ):
        add(sub)
    return parser


def _run_serve(args: argparse.Namespace) -> int:
    config = _load(args.config)
    from .credentials import credential_problems

    problems = credential_problems(config)
    if problems:
        print("hl-email: refusing to start:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    return _arun(_serve(config, with_api=not args.no_api))


def _run_requests(args: argparse.Namespace) -> int:
    return _arun(_requests(_store_config(args), args))


def _run_dev(args: argparse.Namespace) -> int:
    from .sandbox import run_dev

    return _arun(
        run_dev(
            port=args.port,
            data_dir=args.data_dir,
            agent_address=args.agent_address,
            config=args.config,
        )
    )


def _run_doctor(args: argparse.Namespace) -> int:
    from .doctor import run_doctor

    config = _load(args.config)
    return _arun(run_doctor(config, wait_seconds=args.timeout))


def _run_oauth(args: argparse.Namespace) -> int:
    from .oauth import run_login

    config = _load(args.config)
    return _arun(run_login(config, provider=args.provider, flow=args.flow))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .logs import setup_logging

    setup_logging(verbose=args.verbose, json_lines=args.log_json)
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
