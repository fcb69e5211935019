"""`hl-email serve` refuses to run half-started: a part that cannot start is a clear non-zero exit."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path


def _config(tmp_path: Path, port: int, store: str) -> Path:
    path = tmp_path / "serve.toml"
    path.write_text(
        f"""
[agent]
address = "agent@example.test"
[imap]
enabled = false
[store]
url = "{store}"
[security]
secret = "test-secret-0123456789-0123456789-serve"
[api]
host = "127.0.0.1"
port = {port}
api_keys = ["k"]
""",
        encoding="utf-8",
    )
    return path


def _serve(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hl_email.cli", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_exits_nonzero_when_the_api_port_is_taken(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        port = holder.getsockname()[1]
        result = _serve(_config(tmp_path, port, f"sqlite:///{tmp_path / 'gw.db'}"))
    finally:
        holder.close()
    assert result.returncode == 1, result.stderr
    assert "HTTP API cannot start" in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    assert "gateway running" not in result.stdout


def test_serve_exits_nonzero_when_the_store_cannot_open(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be", encoding="utf-8")
    result = _serve(_config(tmp_path, 0, f"sqlite:///{blocker / 'gw.db'}"))
    assert result.returncode == 1, result.stderr
    assert "cannot start the gateway" in result.stderr
    assert "gw.db" in result.stderr
