"""Collapsible log sections: fetch, render and write fold in GitLab CI, and only there."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from conftest import FolderRegistry

from site_builder import ci_log

START = re.compile(r"\x1b\[0Ksection_start:(\d+):([a-z_]+)\[collapsed=true\]\r\x1b\[0K(.+)")
END = re.compile(r"\x1b\[0Ksection_end:(\d+):([a-z_]+)\r\x1b\[0K")


def sections(stderr: str) -> list[tuple[str, str]]:
    """("start"|"end", name) for every marker line, in order."""
    found = []
    for line in stderr.split("\n"):
        if match := START.fullmatch(line):
            found.append(("start", match.group(2)))
        elif match := END.fullmatch(line):
            found.append(("end", match.group(2)))
        else:
            assert "section_" not in line, repr(line)
    return found


@pytest.fixture
def one_version(registry: FolderRegistry) -> FolderRegistry:
    registry.add("v1.0.0", {"VoiceInput-v1.0.0.zip": b"zip"})
    return registry


def test_section_markers_in_gitlab_ci(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitLab's exact start and end lines, on stderr, with a timestamp and the header."""
    monkeypatch.setenv("GITLAB_CI", "true")
    with ci_log.Section("fetch", "Reading the registry"):
        print("inside", file=sys.stderr)
    captured = capsys.readouterr()
    assert captured.out == ""
    start, inside, end, _ = captured.err.split("\n")
    match = START.fullmatch(start)
    assert match and match.group(2, 3) == ("fetch", "Reading the registry")
    assert inside == "inside"
    assert (ended := END.fullmatch(end)) and ended.group(2) == "fetch"
    assert int(ended.group(1)) >= int(match.group(1))


@pytest.mark.parametrize("value", [None, "", "false"])
def test_no_markers_outside_gitlab_ci(
    value: str | None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without GITLAB_CI (or with it empty or false) nothing extra is printed."""
    if value is not None:
        monkeypatch.setenv("GITLAB_CI", value)
    with ci_log.Section("fetch", "Reading the registry"):
        pass
    assert capsys.readouterr().err == ""


def test_a_failing_block_still_closes_its_section(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The section ends before the error is reported, so the error line stays visible."""
    monkeypatch.setenv("GITLAB_CI", "true")
    with pytest.raises(RuntimeError), ci_log.Section("write", "Writing"):
        raise RuntimeError("boom")
    assert sections(capsys.readouterr().err) == [("start", "write"), ("end", "write")]


def test_open_and_close_write_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A section spanning MkDocs events tolerates a second open or close."""
    monkeypatch.setenv("GITLAB_CI", "true")
    render = ci_log.Section("render", "Rendering pages")
    render.close()
    render.open()
    render.open()
    render.close()
    render.close()
    assert sections(capsys.readouterr().err) == [("start", "render"), ("end", "render")]


def test_build_in_gitlab_ci_folds_fetch_render_write(
    one_version: FolderRegistry, build, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real build prints three sections, in order, each closed before the next opens."""
    monkeypatch.setenv("GITLAB_CI", "true")
    result = build()
    assert result.code == 0, result.err
    assert sections(result.err) == [
        ("start", "fetch"), ("end", "fetch"),
        ("start", "render"), ("end", "render"),
        ("start", "write"), ("end", "write"),
    ]


def test_build_outside_gitlab_ci_has_no_sections(one_version: FolderRegistry, build) -> None:
    """The same build on a laptop prints no markers at all."""
    result = build()
    assert result.code == 0, result.err
    assert "section_" not in result.err and "\x1b" not in result.err


def test_failed_build_reports_after_the_section(
    one_version: FolderRegistry, build, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fetch-time failure closes `fetch`; the one error line follows, outside any section."""
    monkeypatch.setenv("GITLAB_CI", "true")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace(
        "package: VoiceInput", "package: VoiceInput\n      max_site_size: 1KB"
    ))
    result = build()
    assert result.code == 1
    lines = result.err.rstrip("\n").split("\n")
    assert sections(result.err) == [("start", "fetch"), ("end", "fetch")]
    assert lines[-1].startswith("site-builder: error: max_site_size")
    assert END.fullmatch(lines[-2])
