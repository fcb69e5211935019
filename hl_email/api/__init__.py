"""HTTP API: the HumanLayer 0.7.x wire format under /humanlayer/v1, plus push waits.

Endpoints (paths and JSON bodies are the ones the official `humanlayer==0.7.9` Python SDK and
`@humanlayer/sdk@0.7.9` TypeScript SDK call, so an agent written against them works by changing
only its base URL and key):

    POST /humanlayer/v1/function_calls                                 body FunctionCall
    GET  /humanlayer/v1/function_calls/{call_id}[?wait=SECONDS]
    POST /humanlayer/v1/agent/function_calls/{call_id}/respond         body FunctionCallStatus
    POST /humanlayer/v1/agent/function_calls/{call_id}/escalate_email  body Escalation
    POST /humanlayer/v1/agent/function_calls/{call_id}/cancel          body {"reason": …} (optional)
    POST /humanlayer/v1/contact_requests                               body HumanContact
    GET  /humanlayer/v1/contact_requests/{call_id}[?wait=SECONDS]
    POST /humanlayer/v1/agent/human_contacts/{call_id}/respond         body HumanContactStatus
    POST /humanlayer/v1/agent/human_contacts/{call_id}/escalate_email  body Escalation
    POST /humanlayer/v1/agent/human_contacts/{call_id}/cancel          body {"reason": …} (optional)
    GET  /humanlayer/v1/function_calls/{call_id}/events                Server-Sent Events
    GET  /humanlayer/v1/contact_requests/{call_id}/events              Server-Sent Events

    GET  /healthz        liveness (no auth)
    GET  /readyz         store reachable, IMAP connected, no SMTP error → 200, else 503 (no auth)
    GET  /openapi.json   the schema (no auth)
    GET  /metrics        Prometheus text format: requests, outcomes, outbox, latency (no auth)

`?wait=SECONDS` (an hl-email addition, at most MAX_WAIT) turns a GET into a long-poll: the
response comes as soon as the request is no longer pending, or after SECONDS with the pending
object. Every call response carries `X-HL-Email-State: pending | done | failed`.

Authentication: `Authorization: Bearer <key>`. A missing or wrong key gets 401 before anything
is read or written. Scopes (hl_email/scopes.py): `[api] api_keys` are agent keys (create, read,
wait, escalate, cancel); `…/respond` needs a key from `[api] approver_keys` (403 otherwise: an
agent cannot approve its own call); `[api] admin_keys` may read and cancel. With no `api_keys` configured the API
refuses every /humanlayer/v1 request (401, saying so), unless the app is created with
`allow_unauthenticated=True`, which only the `hl-email dev` sandbox does.

Layout: wire.py (limits, error bodies, reading bodies and `?wait=`), app.py (auth, endpoints,
create_app), schema.py (/openapi.json, its document is the data file openapi.json), server.py
(ApiServer, serve_api); the other HTTP surfaces: metrics.py (/metrics), console.py (/console),
mcp_mount.py (/mcp) and mcp_server.py (the MCP tools, also `hl-email mcp` over stdio).
"""

from .app import create_app
from .schema import openapi_schema
from .server import ApiServer, serve_api
from .wire import API_PREFIX, MAX_JSON_DEPTH, MAX_WAIT

__all__ = [
    "API_PREFIX",
    "MAX_JSON_DEPTH",
    "MAX_WAIT",
    "ApiServer",
    "create_app",
    "openapi_schema",
    "serve_api",
]
