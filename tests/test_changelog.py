"""The notes of one version from a Keep a Changelog file."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.changelog import notes_for, section
from site_builder.errors import ConfigError

CHANGELOG = """\
# Changelog
All notable changes to this project will be documented in this file.

## [Unreleased]
- Nothing yet

## [1.2.0] - 2026-02-08
### Added
- Push-to-talk

```sh
# a comment in a code block is not a heading
## nor is this
```

## v1.1.0
- First public release

## 1.0.0 (2025-12-01)
- Internal

[Unreleased]: https://example.com/compare/v1.2.0...HEAD
[1.2.0]: https://example.com/compare/v1.1.0...v1.2.0
"""


def test_bracketed_heading_with_date_and_v_prefix_on_the_tag() -> None:
    """`## [1.2.0] - date` is the section of tag v1.2.0, code fences included whole."""
    notes = section(CHANGELOG, "v1.2.0")
    assert notes is not None
    assert notes.startswith("### Added\n- Push-to-talk")
    assert "## nor is this" in notes
    assert "v1.1.0" not in notes


def test_v_heading_matches_a_bare_version() -> None:
    """`## v1.1.0` is found with or without the v."""
    assert section(CHANGELOG, "1.1.0") == "- First public release"
    assert section(CHANGELOG, "v1.1.0") == "- First public release"


def test_last_section_drops_link_definitions() -> None:
    """The reference links at the bottom belong to no section."""
    assert section(CHANGELOG, "1.0.0") == "- Internal"


def test_absent_version_and_prefix_lookalikes() -> None:
    """1.2 is not 1.2.0, and a missing version has no notes."""
    assert section(CHANGELOG, "1.2") is None
    assert section(CHANGELOG, "v9.9.9") is None


def test_notes_for_reads_the_default_file_only_if_present(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """No CHANGELOG.md here: no notes; an explicit missing file: a ConfigError."""
    monkeypatch.chdir(tmp_path)
    assert notes_for("v1.2.0", None) is None
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    assert notes_for("v1.1.0", None) == "- First public release"
    with pytest.raises(ConfigError, match="--changelog"):
        notes_for("v1.1.0", tmp_path / "NOPE.md")
