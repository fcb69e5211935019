"""Start-up cost: `import hl_email_sdk`, `hl-email --help` and `hl-email dev` to ready, each in
fresh subprocesses against the bare libraries measured in the same run (rounds interleaved,
medians printed with their ratios and the goals of the performance issue).

- `import hl_email_sdk` against `import pydantic, httpx` (what any HTTP SDK on pydantic pays);
- `hl-email --help` against a bare `python -c pass`;
- `hl-email dev` from exec until its /healthz answers, against a bare starlette+uvicorn app
  started and polled the same way.

Usage: python bench/startup.py [--rounds 7]
Use `python -X importtime -c "import hl_email_sdk"` to see where the time goes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "sdk")])}

GOAL_SDK = 1.3  # × `import pydantic, httpx`
GOAL_DEV = 0.6  # seconds to ready

BARE_APP = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def healthz(request):
    return JSONResponse({"ok": True})

app = Starlette(routes=[Route("/healthz", healthz)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def _run(args: list[str]) -> float:
    """Seconds from exec to exit of one fresh interpreter."""
    start = time.perf_counter()
    subprocess.run(args, env=ENV, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until_ready(args: Callable[[int], list[str]], *, timeout: float = 30.0) -> float:
    """Seconds from exec until GET /healthz answers 200; the server is then stopped."""
    port = _free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(
        args(port), env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - start
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"{args(port)} exited with {proc.returncode} before ready")
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"{args(port)} not ready in {timeout} s")
            time.sleep(0.005)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    opts = parser.parse_args()
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="hl-email-startup-"))
    bare_app = tmp / "bare_app.py"
    bare_app.write_text(BARE_APP, encoding="utf-8")
    data_dirs = iter(range(10_000))

    def dev(port: int) -> list[str]:
        data_dir = tmp / f"dev{next(data_dirs)}"
        return [py, "-m", "hl_email.cli", "dev", "--port", str(port), "--data-dir", str(data_dir)]

    cases: dict[str, Callable[[], float]] = {
        "python -c pass": lambda: _run([py, "-c", "pass"]),
        "import pydantic, httpx": lambda: _run([py, "-c", "import pydantic, httpx"]),
        "import hl_email_sdk": lambda: _run([py, "-c", "import hl_email_sdk"]),
        "hl-email --help": lambda: _run([py, "-m", "hl_email.cli", "--help"]),
        "bare starlette+uvicorn ready": lambda: _until_ready(lambda p: [py, str(bare_app), str(p)]),
        "hl-email dev ready": lambda: _until_ready(dev),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    try:
        for case in cases.values():  # warm the page cache and .pyc files
            case()
        for _ in range(opts.rounds):
            for name, case in cases.items():
                times[name].append(case())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"start-up, median of {opts.rounds} interleaved rounds (fresh processes):")
    for name, value in med.items():
        spread = f"{min(times[name]) * 1000:.0f}–{max(times[name]) * 1000:.0f}"
        print(f"  {name:<30} {value * 1000:7.0f} ms   ({spread} ms)")
    sdk = med["import hl_email_sdk"] / med["import pydantic, httpx"]
    helpx = med["hl-email --help"] / med["python -c pass"]
    dev_ratio = med["hl-email dev ready"] / med["bare starlette+uvicorn ready"]
    print(
        f"\n  import hl_email_sdk / import pydantic, httpx: {sdk:.2f}×   "
        f"(goal ≤ {GOAL_SDK}×: {'met' if sdk <= GOAL_SDK else 'NOT met'})"
    )
    print(f"  hl-email --help / python -c pass:             {helpx:.2f}×")
    print(
        f"  hl-email dev ready: {med['hl-email dev ready']:.2f} s = {dev_ratio:.2f}× the bare app "
        f"(goal ≤ {GOAL_DEV} s: {'met' if med['hl-email dev ready'] <= GOAL_DEV else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
