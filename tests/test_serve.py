"""`site-builder serve` as a user runs it: a real process, real HTTP, a folder that changes.

The served site answers like GitLab Pages (the `latest/download/…` aliases the pages
advertise redirect through `_redirects`), a new version dropped into the `--from-dir` folder
is picked up without a restart, and Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from site_builder.preview import snapshot

REPO = Path(__file__).resolve().parent.parent
DEADLINE = 120  # seconds; a loaded 2-core machine builds the sample in a few


def _get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as answer:  # follows the 302 of a rule
        return answer.url, answer.read()


def _until(check: object, what: str) -> None:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if callable(check) and check():
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {DEADLINE} s: {what}")


@pytest.mark.slow
def test_serve_follows_redirects_and_rebuilds_when_the_folder_changes(tmp_path: Path) -> None:
    """Aliases redirect; a new version in --from-dir becomes latest; Ctrl-C exits 0."""
    for name in ("content", "theme"):
        shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    registry = tmp_path / "registry"
    shutil.copytree(REPO / "examples" / "registry", registry)
    process = subprocess.Popen(
        [sys.executable, "-m", "site_builder", "serve", "--config", str(tmp_path / "mkdocs.yml"),
         "--from-dir", str(registry), "--cache-dir", str(tmp_path / "cache"),
         "--dev-addr", "127.0.0.1:0"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("CI_", "GITLAB"))},
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in process.stderr or ()],
                              daemon=True)
    reader.start()
    try:
        url, said = "", []
        end = time.monotonic() + DEADLINE
        while not url and time.monotonic() < end:
            try:
                said.append(lines.get(timeout=1))
            except queue.Empty:
                assert process.poll() is None, "".join(said)
                continue
            found = re.search(r" at (http://127\.0\.0\.1:\d+/)", said[-1])
            url = found[1] if found else ""
        assert url, "serve never said where it serves:\n" + "".join(said)

        where, body = _get(url + "latest/download/VoiceInput-latest-linux-x64.zip")
        assert where == url + "download/v1.10.0/VoiceInput-v1.10.0-linux-x64.zip"
        assert body == (registry / "VoiceInput/v1.10.0/VoiceInput-v1.10.0-linux-x64.zip"
                        ).read_bytes()

        new = registry / "VoiceInput" / "v1.11.0"
        new.mkdir()
        (new / "VoiceInput-v1.11.0-linux-x64.zip").write_bytes(b"PK\x03\x04 the next one\n")
        (new / ".release.json").write_text(json.dumps(
            {"released_at": "2026-04-01T00:00:00Z", "status": "default"}))
        _until(lambda: _get(url + "latest.txt")[1] == b"v1.11.0\n", "latest.txt says v1.11.0")
        where, body = _get(url + "latest/download/VoiceInput-latest-linux-x64.zip")
        assert where.endswith("/download/v1.11.0/VoiceInput-v1.11.0-linux-x64.zip")
        assert body == b"PK\x03\x04 the next one\n"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            reader.join(timeout=10)
            if process.stderr is not None:
                process.stderr.close()
    assert code == 0, "".join(said)


def test_snapshot_sees_a_new_a_changed_and_a_removed_file(tmp_path: Path) -> None:
    """The watcher's view changes with any file below a watched folder, hidden ones too."""
    (tmp_path / "v1").mkdir()
    meta = tmp_path / "v1" / ".release.json"
    meta.write_text("{}")
    before = snapshot([tmp_path])
    assert snapshot([tmp_path]) == before
    meta.write_text('{"status": "hidden"}')
    changed = snapshot([tmp_path])
    assert changed != before
    meta.unlink()
    assert snapshot([tmp_path]) not in (before, changed)
    assert snapshot([tmp_path / "gone"]) != snapshot([tmp_path])
