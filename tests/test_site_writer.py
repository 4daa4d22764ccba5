"""Much of the site is written while MkDocs renders; the result is as if written after it."""

from __future__ import annotations

import gzip
import os
import time
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


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def many_versions(registry, count: int = 30) -> None:
    for n in range(count):
        registry.add(f"v1.{n}.0", {f"App-v1.{n}.0.zip": b"PK" + os.urandom(3000),
                                   f"App-v1.{n}.0.txt": b"notes " * 200})


ESCAPE = '''
import os
import time
from mkdocs.plugins import event_priority

@event_priority(50)  # before the downloads plugin starts writing into the emptied folder
def on_files(files, config):
    os.symlink(os.environ["ESCAPE_TO"], os.path.join(config.site_dir, "download"))
'''


def test_an_artifact_that_cannot_be_placed_fails_the_build_and_keeps_the_old_site(
    registry, build, project, tmp_path, monkeypatch
) -> None:
    """Placing runs beside MkDocs; its failure is still the build's one error line."""
    many_versions(registry)
    assert build().code == 0
    before = snapshot(project / "public")
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.setenv("ESCAPE_TO", str(outside))
    add_hook(project, ESCAPE)
    build().refused("resolves outside")
    assert snapshot(project / "public") == before
    assert list(outside.iterdir()) == []
    assert [p.name for p in project.iterdir() if p.name.startswith(".public")] == []


INTERRUPT = '''
import os, signal

def on_post_page(output, page, config):
    if page.file.dest_uri == os.environ["STOP_AT"]:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the writing threads are busy
    return output
'''


def test_ctrl_c_while_rendering_leaves_the_old_site_and_no_staging(
    registry, build, project, monkeypatch
) -> None:
    """Interrupted mid-render, the threads writing the site stop before the staging goes."""
    many_versions(registry)
    assert build().code == 0
    before = snapshot(project / "public")
    add_hook(project, INTERRUPT)
    monkeypatch.setenv("STOP_AT", "releases/v1.3.0/index.html")
    result = build()
    assert result.code == 128 + 2, result.err
    time.sleep(0.5)  # a thread still writing would bring the staging folder back
    assert [p.name for p in project.iterdir() if p.name.startswith(".public")] == []
    assert snapshot(project / "public") == before
