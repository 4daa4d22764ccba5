"""Release notes: Markdown from the registry rendered to HTML with raw HTML removed.

Notes are written by whoever can create a GitLab Release, and they land on a public page,
so they are untrusted input: CommonMark with the `html` option off escapes every tag, and
markdown-it's link validation drops `javascript:`, `vbscript:` and `data:` URLs.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def notes_html(markdown: str) -> str:
    """Safe HTML for `markdown`; an empty string for empty notes."""
    if not markdown.strip():
        return ""
    return _parser().render(markdown)
