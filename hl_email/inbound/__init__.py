"""Inbound mail sources: the IMAP IDLE watcher (and a Maildir source for the dev sandbox)."""

from .imap import ImapWatcher
from .responses import parse_fetch_literal, parse_search_uids, parse_uidvalidity

__all__ = ["ImapWatcher", "parse_fetch_literal", "parse_search_uids", "parse_uidvalidity"]
