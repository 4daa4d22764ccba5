"""Release notes: Markdown from the registry rendered to HTML with raw HTML removed.

Notes are written by whoever can create a GitLab Release, and they land on a public page,
so they are untrusted input: CommonMark with the `html` option off escapes every tag, and
markdown-it's link validation drops `javascript:`, `vbscript:` and `data:` URLs. An image on
another host becomes a link to it: a page of this site never makes a visitor's browser ask
another host for anything (a tracking pixel would learn who downloads what, and when).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import OptionsDict


def loads_from_this_site(url: str) -> bool:
    """True for a relative URL or an inline `data:` image: no other host is asked."""
    parts = urlsplit(url)
    return (not parts.scheme and not parts.netloc and not url.startswith("//")) \
        or parts.scheme == "data"


def _image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict,
           env: Any) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if loads_from_this_site(src):
        return self.image(tokens, idx, options, env)
    alt = self.renderInlineAsText(token.children or [], options, env)
    label = f"{alt} (image on {urlsplit(src).netloc or 'another site'})" if alt else src
    if _inside_link(tokens, idx):  # a linked image: its text, inside the link it already is
        return escapeHtml(label)
    return f'<a href="{escapeHtml(src)}" rel="nofollow noopener">{escapeHtml(label)}</a>'


def _inside_link(tokens: Sequence[Token], idx: int) -> bool:
    depth = 0
    for token in tokens[:idx]:
        depth += {"link_open": 1, "link_close": -1}.get(token.type, 0)
    return depth > 0


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    md.add_render_rule("image", _image)
    return md


def notes_html(markdown: str) -> str:
    """Safe HTML for `markdown`; an empty string for empty notes."""
    if not markdown.strip():
        return ""
    return _parser().render(markdown)
