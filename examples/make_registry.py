"""Regenerate `examples/registry`, the sample registry the README's first command builds.

Deterministic: the same bytes every run (fixed zip timestamps), so the committed files
and their SHA256 never change by accident.  Run: python examples/make_registry.py
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent / "registry" / "VoiceInput"
PLATFORMS = ("windows-x64", "macos-arm64", "linux-x64")
VERSIONS = {
    "v1.0.0": ("2025-09-01T10:00:00Z", "default", "First public release.\n"),
    "v1.9.0": ("2025-12-02T09:30:00Z", "default",
               "- Faster start-up on Windows\n- Fixed: the tray icon vanished after sleep\n"),
    "v1.10.0": ("2026-02-08T15:23:00Z", "default",
                "## Highlights\n\n- **Offline dictation** in 12 languages\n"
                "- Push-to-talk hotkey is configurable\n\n"
                "The manual is included as `docs/manual.txt`.\n"),
    "v2.0.0-rc.1": ("2026-03-01T12:00:00Z", "default",
                    "Release candidate of 2.0: new recognition engine. Please report issues.\n"),
    "nightly-20260115": ("2026-01-15T03:00:00Z", "default", "Nightly build.\n"),
    "v2.0.0-internal": ("2026-03-02T12:00:00Z", "hidden",
                        "Internal test build, never published.\n"),
}


def payload(seed: str, size: int) -> bytes:
    """Incompressible but reproducible bytes, so sample downloads have a realistic size."""
    out = bytearray()
    block = seed.encode()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def make_zip(path: Path, version: str, platform: str) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in (
            ("VoiceInput/README.txt", f"VoiceInput {version} for {platform}\n"),
            ("VoiceInput/LICENSE.txt", "Sample data for site_builder.\n"),
            ("VoiceInput/voiceinput.bin", payload(f"{version}:{platform}", 40_000)),
        ):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)


def main() -> None:
    shutil.rmtree(ROOT, ignore_errors=True)
    for version, (released_at, status, notes) in VERSIONS.items():
        folder = ROOT / version
        folder.mkdir(parents=True)
        for platform in PLATFORMS:
            make_zip(folder / f"VoiceInput-{version}-{platform}.zip", version, platform)
        (folder / ".release.json").write_text(
            json.dumps({"released_at": released_at, "status": status}, indent=2) + "\n"
        )
        (folder / ".notes.md").write_text(notes)
    docs = ROOT / "v1.10.0" / "docs"
    docs.mkdir()
    (docs / "manual.txt").write_text("VoiceInput manual\n\nPress the hotkey and speak.\n")


if __name__ == "__main__":
    main()
