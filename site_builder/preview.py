"""`site-builder serve`: the site built into a temporary folder, served as GitLab Pages serves
it, and rebuilt when anything it is made from changes.

MkDocs' own development server knows nothing of `_redirects` (the `latest/download/…` links
the pages advertise would answer 404 there) and watches only the docs and theme folders, not
the registry folder given with `--from-dir`. Here `pages_server.PagesServer` answers (files,
then `_redirects`, then `404.html`), and a poll of the config file, the docs folder, the
theme folder and the registry folder (file names, sizes and times; nothing is read) starts a
rebuild with the same code as `build`. A rebuild that fails is reported in one line and the
last good site stays served.

    serve_and_rebuild(build, watch=[config, docs, theme, registry], host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from .pages_server import PagesServer

log = logging.getLogger("mkdocs.plugins.downloads")

Snapshot = frozenset[tuple[str, int, int]]
# `build(output_folder, site_url)` writes the whole site into output_folder or raises.
Build = Callable[[Path, str], None]


def snapshot(paths: Iterable[Path]) -> Snapshot:
    """What the watched files look like now: (path, size, mtime) of every file below `paths`."""
    seen: set[tuple[str, int, int]] = set()
    for root in paths:
        if root.is_file():
            candidates: Iterable[Path] = [root]
        elif root.is_dir():
            candidates = (Path(folder) / name for folder, _dirs, names in os.walk(root)
                          for name in names)
        else:
            seen.add((str(root), -1, -1))  # a watched path that is gone counts as a change
            continue
        for path in candidates:
            try:
                stat = path.stat()
            except OSError:  # removed while we looked: the next poll sees it gone
                continue
            seen.add((str(path), stat.st_size, stat.st_mtime_ns))
    return frozenset(seen)


def serve_and_rebuild(build: Build, *, watch: list[Path], host: str = "127.0.0.1",
                      port: int = 8000, interval: float = 1.0,
                      stop: threading.Event | None = None,
                      on_ready: Callable[[str], None] | None = None) -> None:
    """Build, serve on http://host:port/, rebuild on change, until `stop` is set or Ctrl-C."""
    stop = stop or threading.Event()
    work = Path(tempfile.mkdtemp(prefix="site-builder-serve-"))
    site = work / "site"
    try:
        with PagesServer(site, prefix="", host=host, port=port) as server:
            state = snapshot(watch)
            build(site, server.url)
            log.info("serving %s at %s (Ctrl-C stops); watching %s", site, server.url,
                     ", ".join(str(p) for p in watch))
            if on_ready is not None:
                on_ready(server.url)
            while not stop.wait(interval):
                now = snapshot(watch)
                if now == state:
                    continue
                state = now
                log.info("a source changed: rebuilding")
                try:
                    build(site, server.url)
                except KeyboardInterrupt:
                    raise
                except Exception as error:  # the last good site stays served
                    log.warning("rebuild failed, still serving the last good site: %s",
                                str(error).splitlines()[0] if str(error) else type(error).__name__)
                else:
                    log.info("rebuilt")
    except KeyboardInterrupt:
        log.info("stopped")
    finally:
        shutil.rmtree(work, ignore_errors=True)
