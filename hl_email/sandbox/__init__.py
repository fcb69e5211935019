"""`hl-email dev`: the whole gateway in one process with no mail account (see app.py)."""

from .app import (
    DEFAULT_AGENT_ADDRESS,
    DEFAULT_DATA_DIR,
    DEFAULT_PERSON,
    DEFAULT_PORT,
    Sandbox,
    build_reply,
    mailbox_name,
    parse_mailto,
    quote_text,
    rewrite_mailto_links,
    run_dev,
    sandbox_store_path,
)

__all__ = [
    "DEFAULT_AGENT_ADDRESS",
    "DEFAULT_DATA_DIR",
    "DEFAULT_PERSON",
    "DEFAULT_PORT",
    "Sandbox",
    "build_reply",
    "mailbox_name",
    "parse_mailto",
    "quote_text",
    "rewrite_mailto_links",
    "run_dev",
    "sandbox_store_path",
]
