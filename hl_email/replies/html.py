"""HTML reply bodies to plain text: drop mail-client quote containers, then render text.

Quote containers are removed before conversion because HTML replies often carry the
quoted history without ``>`` markers. Any ``<blockquote>`` that survives is rendered with
``> `` prefixes, so the plain-text trimmer treats it as a quote. Uses selectolax (MIT) with its lexbor backend.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

__all__ = ["html_to_text", "strip_quote_containers"]

# Client quote containers: the element and everything inside it are quoted history.
_REMOVE_SELECTORS = (
    "head",
    "style",
    "script",
    "title",
    "div.gmail_quote",
    "blockquote.gmail_quote",
    "div.gmail_attr",
    "blockquote[type=cite]",
    "div.moz-cite-prefix",
    "div.yahoo_quoted",
    "div[id^=yahoo_quoted]",
    "div.protonmail_quote",
    "blockquote.protonmail_quote",
    "div[data-marker=__QUOTED_TEXT__]",
    "div[data-marker=__HEADERS__]",
    "#OLK_SRC_BODY_SECTION",
    "div.zmail_extra",
    "div.OutlookMessageHeader",
    "#mail-editor-reference-message-container",
)
# Separators: the element and everything after it (in document order) are quoted history.
_CUT_SELECTORS = (
    "#divRplyFwdMsg",
    "#x_divRplyFwdMsg",
    "#appendonsend",
    "hr#zwchr",
    "hr#stopSpelling",
    "div.ms-outlook-mobile-reference-message",
    "span.OLK_SRC_BODY_SECTION",
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


def strip_quote_containers(tree: HTMLParser) -> None:
    for selector in _REMOVE_SELECTORS:
        for node in tree.css(selector):
            node.decompose()
    for selector in _CUT_SELECTORS:
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


def _looks_like_header(text: str) -> bool:
    lowered = text.lower()
    keys = sum(key in lowered for key in ("from:", "sent:", "date:", "to:", "subject:"))
    return keys >= 2


def _render(node: Node, out: list[str], depth: int) -> None:
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
        elif tag in ("-comment", "style", "script", "head", "title"):
            pass
        elif tag == "blockquote":
            out.append("\n")
            inner: list[str] = []
            _render(child, inner, depth + 1)
            for line in "".join(inner).strip("\n").split("\n"):
                out.append("> " + line.strip() + "\n")
        elif tag in _BLOCK_TAGS:
            out.append("\n")
            _render(child, out, depth + 1)
            out.append("\n")
        else:
            _render(child, out, depth + 1)
        child = child.next


def html_to_text(html: str, *, strip_quotes: bool = True) -> str:
    """Plain text of an HTML mail body, client quote containers removed first."""
    if not html or not html.strip():
        return ""
    tree = HTMLParser(html)
    if strip_quotes:
        strip_quote_containers(tree)
    root = tree.body or tree.root
    if root is None:
        return ""
    out: list[str] = []
    _render(root, out, 0)
    lines = [
        line.strip() if not line.lstrip().startswith(">") else line.rstrip()
        for line in "".join(out).split("\n")
    ]
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
