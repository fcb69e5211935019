"""`hl-email dev`: the whole gateway in one process with no mail account.

app.py is the facade (gateway, SMTP capture, lifecycle); mailboxes.py the Maildirs people read;
mail_client.py writes their replies as a mail client would; web.py serves the inbox pages.
"""

from .app import (
    DEFAULT_AGENT_ADDRESS,
    DEFAULT_DATA_DIR,
    DEFAULT_PERSON,
    DEFAULT_PORT,
    Sandbox,
    run_dev,
    sandbox_store_path,
)
from .mail_client import build_reply, parse_mailto, quote_text
from .mailboxes import MessageView, mailbox_name
from .web import rewrite_mailto_links

__all__ = [
    "DEFAULT_AGENT_ADDRESS",
    "DEFAULT_DATA_DIR",
    "DEFAULT_PERSON",
    "DEFAULT_PORT",
    "MessageView",
    "Sandbox",
    "build_reply",
    "mailbox_name",
    "parse_mailto",
    "quote_text",
    "rewrite_mailto_links",
    "run_dev",
    "sandbox_store_path",
]
