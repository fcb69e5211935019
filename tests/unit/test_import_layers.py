"""The layer contract of .importlinter holds: core, routing and replies import no I/O.

The pure layers take values and return values (issue 11); a socket, a database driver or an
adapter module imported there, even indirectly, breaks the contract and this test names the chain.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_pure_layers_import_no_io(capsys: pytest.CaptureFixture[str]) -> None:
    cli = pytest.importorskip(
        "importlinter.cli", reason="import-linter comes with the [test] extra"
    )
    cwd = os.getcwd()
    os.chdir(ROOT)  # import-linter finds the package from the working directory
    try:
        code = cli.lint_imports(
            config_filename=str(ROOT / ".importlinter"), no_cache=True, no_logo=True
        )
    finally:
        os.chdir(cwd)
    report = capsys.readouterr().out
    assert code == 0, report
    assert "broken" in report and "0 broken" in report
