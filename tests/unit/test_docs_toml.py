"""Every TOML block in README.md and docs/*.md is valid TOML (a duplicated table, as a merge
once left in README's config example, makes a copy-pasted config fail to load)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```toml\n(.*?)^```", re.S | re.M)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for n, m in enumerate(BLOCK.finditer(doc.read_text(encoding="utf-8")), start=1):
            found.append((f"{doc.relative_to(ROOT)}#{n}", m.group(1)))
    return found


def test_the_docs_have_toml_blocks() -> None:
    assert len(_blocks()) >= 5


@pytest.mark.parametrize(("where", "block"), _blocks(), ids=[w for w, _ in _blocks()])
def test_toml_block_parses(where: str, block: str) -> None:
    tomllib.loads(block)
