"""Release notes from a Keep a Changelog style `CHANGELOG.md`: the section of one version.

    ## [Unreleased]
    ## [1.2.0] - 2026-02-08        ← section("…", "v1.2.0") returns the lines under this heading
    ### Added
    - Push-to-talk
    ## v1.1.0
    …
    [1.2.0]: https://example.com/compare/v1.1.0...v1.2.0

A leading `v` is optional on both sides, brackets and a trailing date or text are allowed.
The section ends at the next heading of level one or two (outside code fences); link
reference definitions at its end (Keep a Changelog puts them at the bottom) are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import ConfigError

DEFAULT_CHANGELOG = "CHANGELOG.md"

_HEADING = re.compile(r"^(#{1,2})(?!#)\s*(.*?)\s*#*\s*$")
# `[1.2.0] - 2026-02-08`, `v1.2.0`, `[v1.2.0](https://…)`, `1.2.0 (2026-02-08)`
_TITLE_VERSION = re.compile(r"^\[?\s*([^\]\s()]+)")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+")


def _bare(version: str) -> str:
    return version[1:] if version[:1] in ("v", "V") else version


def heading_version(title: str) -> str | None:
    """The version a level-two heading names (`[1.2.0] - 2026-02-08` → `1.2.0`), if any."""
    match = _TITLE_VERSION.match(title)
    return match.group(1) if match else None


def section(text: str, version: str) -> str | None:
    """The Markdown under the `## <version>` heading of `text`, or None when there is none."""
    wanted = _bare(version)
    lines = text.splitlines()
    start = None
    fenced = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        if heading is None:
            continue
        if start is not None:
            return _body(lines[start:index])
        named = heading_version(heading.group(2))
        if len(heading.group(1)) == 2 and named is not None and _bare(named) == wanted:
            start = index + 1
    return _body(lines[start:]) if start is not None else None


def _body(lines: list[str]) -> str:
    while lines and (not lines[-1].strip() or _LINK_DEFINITION.match(lines[-1])):
        lines = lines[:-1]
    return "\n".join(lines).strip("\n")


def notes_for(version: str, path: Path | None) -> str | None:
    """The notes of `version` from `path` (default `CHANGELOG.md` here, if it exists)."""
    if path is None:
        path = Path(DEFAULT_CHANGELOG)
        if not path.is_file():
            return None
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(f"changelog {path} not found: check --changelog FILE") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read changelog {path}: {e}; check the file") from e
    return section(text, version)
