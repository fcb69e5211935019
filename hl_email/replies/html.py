"""HTML reply bodies to plain text: drop mail-client quote containers, then render text.

Quote containers are removed before conversion because HTML replies often carry the
quoted history without ``>`` markers. A ``<blockquote>`` that survives is a quote when an
attribution ("On … wrote:", a From:/Sent: block) stands right above it or opens it: it is
rendered with ``> `` prefixes, so the plain-text trimmer treats it as one. Any other
blockquote is one the person wrote on purpose and is rendered as text (``blockquotes="drop"``
removes every blockquote: the decision never reads one). Lists keep ``-`` and ``1.``
markers. Uses selectolax (MIT) with its lexbor backend.
"""

from __future__ import annotations

import re
from typing import Literal

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from .attribution import ends_with_wrote

__all__ = ["html_to_text", "strip_quote_containers", "strip_signature_containers"]

# Client quote containers: the element and everything inside it are quoted history.
_REMOVE_SELECTORS = (
    "head",
    "style",
    "script",
    "title",
    # Gmail (web, Android, iOS): the attribution and the quote sit in div.gmail_quote
    "div.gmail_quote",
    "div.gmail_attr",
    # Apple Mail, Thunderbird, most clients that follow RFC 2854 conventions
    "blockquote[type=cite]",
    "div.moz-cite-prefix",
    # Yahoo: class yahoo_quoted, ids like "ydp5d1yahoo_quoted_4711"
    "[class*=yahoo_quoted]",
    "[id*=yahoo_quoted]",
    # ProtonMail
    ".protonmail_quote",
    # Zimbra
    "div[data-marker=__QUOTED_TEXT__]",
    "div[data-marker=__HEADERS__]",
    # Outlook (Mac, iOS, new Outlook)
    "[id*=OLK_SRC_BODY_SECTION]",
    "div.OutlookMessageHeader",
    "#mail-editor-reference-message-container",
    # Zoho, GMX/web.de, Fastmail, help desks (Freshdesk, Front)
    "div.zmail_extra",
    "div[name=quote]",
    "div[name=quoted-content]",
    "div#qt",
    ".freshdesk_quote",
    ".front-blockquote",
)
# Separators: the element and everything after it (in document order) are quoted history.
_CUT_SELECTORS = (
    "[id*=divRplyFwdMsg]",  # Outlook on the web / Outlook.com / desktop (also "x_…")
    "[id*=appendonsend]",
    "[name=messageReplySection]",  # Outlook for Mac
    "[id*=messageReplySection i]",
    "[class*=messageReplySection i]",
    "hr#zwchr",  # Zimbra
    "hr#stopSpelling",  # Windows Live / Hotmail
    "[class*=ms-outlook-mobile-reference-message]",
    "span.OLK_SRC_BODY_SECTION",
    "div.moz-forward-container",  # Thunderbird forward
)
# Signature blocks the clients mark: removed unless signatures are kept (the decision).
_SIGNATURE_SELECTORS = (
    "div.gmail_signature",
    "[data-smartmail=gmail_signature]",
    "div.moz-signature",
    "pre.moz-signature",
    ".protonmail_signature_block",
    "div[data-marker=__SIG_PRE__]",
    "div[data-marker=__SIG_POST__]",
    "div#Signature",
    "[name=messageSignatureSection]",
    "div#AppleMailSignature",
    "[id*=ymail_android_signature]",
    "#ms-outlook-mobile-signature",
)
_BLOCK_TAGS = frozenset(
    "address article aside blockquote dd div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody thead tfoot tr ul "
    "body html center".split()
)
_MAX_DEPTH = 400


def _cut_from(node: Node) -> None:
    """Remove ``node`` and everything that follows it in document order."""
    current: Node | None = node
    while current is not None and current.tag not in ("body", "html", "-undef"):
        sibling = current.next
        while sibling is not None:
            following = sibling.next
            sibling.decompose()
            sibling = following
        parent = current.parent
        if current is node:
            current.decompose()
        current = parent


def _is_outlook_header_div(node: Node) -> bool:
    style = (node.attributes.get("style") or "").replace(" ", "").lower()
    return "border-top:solid" in style and ("#e1e1e1" in style or "#b5c4df" in style)


def _token(selector: str) -> str:
    """The longest name in a selector: a document without it cannot match."""
    return max(re.findall(r"[A-Za-z_][\w-]+", selector), key=len).lower()


_TOKENS = {
    selector: _token(selector)
    for selector in (*_REMOVE_SELECTORS, *_CUT_SELECTORS, *_SIGNATURE_SELECTORS)
}


def _present(selectors: tuple[str, ...], source: str | None) -> tuple[str, ...]:
    """PERF: only the selectors whose name occurs in the (lower-cased) source: each query
    walks the whole tree."""
    if source is None:
        return selectors
    return tuple(selector for selector in selectors if _TOKENS[selector] in source)


def strip_quote_containers(tree: HTMLParser, source: str | None = None) -> None:
    """Remove client quote containers (and what follows a cut marker). ``source``: the
    lower-cased HTML, to skip selectors that cannot match."""
    for selector in _present(_REMOVE_SELECTORS, source):
        for node in tree.css(selector):
            node.decompose()
    for selector in _present(_CUT_SELECTORS, source):
        found = tree.css_first(selector)
        if found is not None:
            _cut_from(found)
    for node in tree.css("div[style]"):
        if _is_outlook_header_div(node):
            _cut_from(node)
            break
    # Outlook "<hr>" followed by a From: block; Windows Mail border-top div likewise.
    for node in tree.css("hr"):
        following = node.next
        text = ""
        while following is not None and len(text) < 200:
            text += following.text(deep=True, separator=" ") or ""
            following = following.next
        if _looks_like_header(text):
            _cut_from(node)
            break


def strip_signature_containers(tree: HTMLParser, source: str | None = None) -> None:
    for selector in _present(_SIGNATURE_SELECTORS, source):
        for node in tree.css(selector):
            node.decompose()


def _looks_like_header(text: str) -> bool:
    lowered = text.lower()
    keys = sum(key in lowered for key in ("from:", "sent:", "date:", "to:", "subject:"))
    return keys >= 2


# An attribution line above a blockquote that is not "… wrote:": "<a@b.c>:", "12:01 Uhr:"
_ATTRIBUTION_END_RE = re.compile(r"(?:@[^\s<>]{1,100}>?|\d\d?:\d\d(?:\s*\w{1,4})?)\s*[:：]\s*$")
_HEADER_START_RE = re.compile(
    r"^\W{0,4}(?:from|von|de|da|van|od|от|发件人|寄件者|差出人)\s*[:：]", re.I
)
_BlockquoteMode = Literal["auto", "drop"]
_INDENT = "\ue000"  # list indentation, kept through the line stripping below
_MAX_LIST_INDENT = 6  # levels; deeper lists are indented no further


def _attribution_above(out: list[str]) -> bool:
    """True when the text rendered so far ends with a reply attribution or header block."""
    tail = "".join(out[-24:])[-600:]  # the attribution is the last line or two
    lines = [line.strip() for line in tail.split("\n") if line.strip()]
    if not lines:
        return False
    last = lines[-1]
    if len(last) <= 400 and (
        # an attribution names a date or an address: "what the customer wrote:" does not
        (ends_with_wrote(last) and any(char.isdigit() or char == "@" for char in last))
        or _ATTRIBUTION_END_RE.search(last)
    ):
        return True
    return _looks_like_header(" ".join(lines[-6:])) and any(
        _HEADER_START_RE.match(line) for line in lines[-6:]
    )


def _opens_like_mail(text: str) -> bool:
    """A blockquote that starts with a header block or carries our marker is quoted mail."""
    head = text.lstrip()[:400]
    if "please type your reply above this line" in text[:20_000].lower():
        return True
    return bool(_HEADER_START_RE.match(head)) and _looks_like_header(head)


_MAX_ALT = 100


def _render(
    node: Node, out: list[str], depth: int, mode: _BlockquoteMode, lists: list[int]
) -> None:
    if depth > _MAX_DEPTH:
        return
    child = node.child
    while child is not None:
        tag = child.tag
        if tag == "-text":
            text = child.text_content or ""
            if text:
                collapsed = " ".join(text.split())
                if not collapsed:
                    out.append(" ")
                else:
                    lead = " " if text[0].isspace() else ""
                    trail = " " if text[-1].isspace() else ""
                    out.append(lead + collapsed + trail)
        elif tag == "br":
            out.append("\n")
        elif tag == "img":
            # an emoji or word sent as an image (Outlook, Yahoo, custom emoji) is read as its
            # alt text: "Approved<img alt='👎'>" is what the human wrote
            alt = " ".join(str(child.attributes.get("alt") or "").split())[:_MAX_ALT]
            if alt:
                out.append(alt)
        elif tag in ("-comment", "style", "script", "head", "title"):
            pass
        elif tag == "blockquote":
            if mode != "drop":
                inner: list[str] = []
                _render(child, inner, depth + 1, mode, lists)
                text = "".join(inner).strip("\n")
                quoted = _attribution_above(out) or _opens_like_mail(text)
                out.append("\n")
                for line in text.split("\n"):
                    out.append(("> " + line.strip() if quoted else line) + "\n")
        elif tag in ("ul", "ol"):
            start = 1
            if tag == "ol":
                try:
                    start = int((child.attributes.get("start") or "1").strip())
                except ValueError:
                    start = 1
            # a counter per open list: -1 marks a bulleted one
            lists.append(start if tag == "ol" else -1)
            _render(child, out, depth + 1, mode, lists)
            lists.pop()
            out.append("\n")
        elif tag == "li":
            inner = []
            _render(child, inner, depth + 1, mode, lists)
            counter = lists[-1] if lists else -1
            marker = "-" if counter < 0 else f"{counter}."
            if lists and counter >= 0:
                lists[-1] = counter + 1
            indent = _INDENT * (2 * min(max(len(lists) - 1, 0), _MAX_LIST_INDENT))
            item = "".join(inner).strip()
            if "\n" not in item:  # PERF: the common one-line item
                out.append("\n" + indent + marker + " " + item)
                child = child.next
                continue
            body = [line for line in item.split("\n") if line.strip()]
            out.append("\n" + indent + marker + " " + (body[0].strip() if body else ""))
            for line in body[1:]:
                out.append(
                    "\n"
                    + (line if line.lstrip().startswith(_INDENT) else indent + "  " + line.strip())
                )
        elif tag in _BLOCK_TAGS:
            out.append("\n")
            _render(child, out, depth + 1, mode, lists)
            out.append("\n")
        else:
            _render(child, out, depth + 1, mode, lists)
        child = child.next


def html_to_text(
    html: str,
    *,
    strip_quotes: bool = True,
    strip_signatures: bool = False,
    blockquotes: _BlockquoteMode = "auto",
) -> str:
    """Plain text of an HTML mail body, client quote containers removed first.

    ``strip_signatures`` also removes the signature blocks clients mark (Gmail's
    gmail_signature, Thunderbird's moz-signature…); ``blockquotes="drop"`` removes every
    blockquote instead of keeping the ones written on purpose."""
    if not html or not html.strip():
        return ""
    tree = HTMLParser(html)
    source = html.lower()
    if strip_quotes:
        strip_quote_containers(tree, source)
    if strip_signatures:
        strip_signature_containers(tree, source)
    root = tree.body or tree.root
    if root is None:
        return ""
    out: list[str] = []
    _render(root, out, 0, blockquotes, [])
    text = "".join(out)
    lines = [
        line.strip() if not line.lstrip().startswith(">") else line.rstrip()
        for line in text.split("\n")
    ]
    if _INDENT in text:
        lines = [line.replace(_INDENT, " ") for line in lines]
    # collapse runs of blank lines produced by nested blocks
    result: list[str] = []
    blank = 0
    for line in lines:
        if not line.strip() or line.strip() == ">":
            blank += 1
            if blank > 2:
                continue
        else:
            blank = 0
        result.append(line)
    return "\n".join(result).strip()
