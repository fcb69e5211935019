"""A local OAuth2 authorization server for tests: token endpoint (refresh-token and device-code
grants), device authorization, and RFC 7662 introspection that Dovecot's oauth2 passdb asks.

Tokens live `lifetime` seconds (by this server's clock), so a test can make them expire mid-run;
`revoke_access_tokens()` makes every issued access token inactive at once."""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["OAuthServer", "start_oauth_server"]


@dataclass
class OAuthServer:
    username: str
    refresh_token: str = "refresh-0"
    lifetime: float = 3600.0
    client_id: str = "hl-email-test"
    port: int = 0
    grants: list[str] = field(default_factory=list)  # grant_type of every token request
    introspected: list[tuple[str, bool]] = field(default_factory=list)  # (token, active)
    _tokens: dict[str, float] = field(default_factory=dict)  # access token -> expiry
    _device_polls: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/oauth2/v2.0"

    @property
    def token_url(self) -> str:
        return f"{self.base}/token"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    def revoke_access_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def all_expired(self) -> bool:
        """Every access token issued so far is past its lifetime (or revoked)."""
        with self._lock:
            now = time.time()
            return all(expiry <= now for expiry in self._tokens.values())

    def active(self, token: str) -> bool:
        with self._lock:
            return self._tokens.get(token, 0) > time.time()

    def _issue(self) -> dict:
        token = "at-" + secrets.token_urlsafe(12)
        with self._lock:
            self._tokens[token] = time.time() + self.lifetime
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime}

    def handle(self, path: str, form: dict[str, str]) -> tuple[int, dict]:
        if path.endswith("/token"):
            grant = form.get("grant_type", "")
            self.grants.append(grant)
            if form.get("client_id") != self.client_id:
                return 401, {"error": "invalid_client"}
            if grant == "refresh_token":
                if form.get("refresh_token") != self.refresh_token:
                    return 400, {"error": "invalid_grant", "error_description": "unknown token"}
                return 200, self._issue()
            if grant == "authorization_code":
                if form.get("code") != "code-1" or not form.get("code_verifier"):
                    return 400, {"error": "invalid_grant"}
                return 200, {**self._issue(), "refresh_token": self.refresh_token}
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                self._device_polls += 1
                if self._device_polls < 2:
                    return 400, {"error": "authorization_pending"}
                return 200, {**self._issue(), "refresh_token": self.refresh_token}
            return 400, {"error": "unsupported_grant_type"}
        if path.endswith("/devicecode"):
            return 200, {
                "device_code": "device-1",
                "user_code": "HLTEST",
                "verification_uri": "https://login.example.test/device",
                "interval": 0.05,
                "expires_in": 60,
            }
        if path == "/introspect":
            token = form.get("token", "")
            active = self.active(token)
            self.introspected.append((token, active))
            if not active:
                return 200, {"active": False}
            return 200, {"active": True, "username": self.username, "scope": "mail"}
        return 404, {"error": "not_found"}

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def start_oauth_server(username: str, **kwargs) -> OAuthServer:
    state = OAuthServer(username, **kwargs)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            form = dict(urllib.parse.parse_qsl(body))
            if not form.get("token") and self.headers.get("Authorization", "").startswith(
                "Bearer "
            ):
                form["token"] = self.headers["Authorization"][7:]
            status, payload = state.handle(urllib.parse.urlsplit(self.path).path, form)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST  # noqa: N815

        def log_message(self, *args) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state._server = server
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state
