"""Much of the site is written while MkDocs renders; the result is as if written after it."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import brotli

LATER_PLUGIN = '''
from mkdocs.plugins import event_priority

@event_priority(-100)  # the downloads plugin's priority, later in mkdocs.yml: it runs after it
def on_post_page(output, page, config):
    return output.replace("</body>", "<!-- stamped by a later plugin --></body>")
'''


def add_hook(project: Path, code: str) -> None:
    (project / "hooks.py").write_text(code)
    with (project / "mkdocs.yml").open("a") as config:
        config.write("hooks:\n  - hooks.py\n")


def test_copies_hold_what_a_later_plugin_made_of_each_page(registry, build, project) -> None:
    """Each page's .gz and .br decode to the page as served, with a later plugin's change."""
    registry.add("v1.0.0", {"App-v1.0.0.zip": b"PK" + os.urandom(100)})
    add_hook(project, LATER_PLUGIN)
    result = build()
    assert result.code == 0, result.err
    pages = list((project / "public").rglob("*.html"))
    stamped = [p for p in pages if b"stamped by a later plugin" in p.read_bytes()]
    assert len(stamped) >= 6, pages
    for page in stamped:
        data = page.read_bytes()
        assert gzip.decompress(Path(f"{page}.gz").read_bytes()) == data, page
        assert brotli.decompress(Path(f"{page}.br").read_bytes()) == data, page
