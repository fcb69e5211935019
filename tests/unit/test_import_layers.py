"""The layer contract of .importlinter holds: core, routing and replies import no I/O.

The pure layers take values and return values (issue 11); a socket, a database driver or an
adapter module imported there, even indirectly, breaks the contract and this test names the chain.
Runs in a subprocess: import-linter configures logging, which must not leak into other tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_pure_layers_import_no_io() -> None:
    pytest.importorskip("importlinter", reason="import-linter comes with the [test] extra")
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, importlinter.cli as c; sys.exit(c.lint_imports(no_cache=True, no_logo=True))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout
