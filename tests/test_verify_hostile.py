"""`verify` against a site that sends visitors elsewhere, and a site whose names need encoding."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import VOICE_URL, CliResult, FolderRegistry

from site_builder.verify import verify_site

SITE_URL = VOICE_URL


@pytest.fixture
def site(voice_site: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(voice_site, tmp_path / "public"))


def append_rule(site: Path, rule: str) -> None:
    with (site / "_redirects").open("a") as rules:
        rules.write(rule + "\n")


@pytest.mark.parametrize("target", ["https://other.host/evil.zip", "http://other.host/x"])
def test_a_redirect_off_the_site_is_a_problem(site: Path, target: str) -> None:
    """A rule sending `latest/download/...` to another host fails, naming the rule."""
    append_rule(site, f"/voice/latest/download/Evil.zip {target} 302")
    found = [p for p in verify_site(site).problems if "other.host" in p]
    assert found and "another host" in found[0], verify_site(site).problems


def test_a_protocol_relative_redirect_is_a_problem(site: Path) -> None:
    """`//other.host/…` is no path of this site either."""
    append_rule(site, "/voice/latest/download/Evil.zip //other.host/evil.zip 302")
    assert any("//other.host" in p for p in verify_site(site).problems)


@pytest.mark.parametrize(
    "markup",
    [
        '<script src="https://other.host/x.js"></script>',
        '<script src="//other.host/x.js"></script>',
        '<img src="https://other.host/pixel.png" alt="">',
        '<img srcset="https://other.host/p.png 2x" alt="">',
        '<iframe src="https://other.host/frame"></iframe>',
        '<link rel="stylesheet" href="https://other.host/x.css">',
        '<form action="https://other.host/steal"><button>go</button></form>',
        '<meta http-equiv="refresh" content="0; url=https://other.host/">',
        '<video poster="https://other.host/p.jpg"></video>',
    ],
)
def test_a_page_loading_from_another_host_is_a_problem(site: Path, markup: str) -> None:
    """Scripts, images, frames, stylesheets, forms and refreshes to another host all fail."""
    page = site / "index.html"
    page.write_text(page.read_text().replace("</body>", markup + "</body>"))
    for copy in (".gz", ".br"):
        Path(f"{page}{copy}").unlink(missing_ok=True)
    found = [p for p in verify_site(site).problems if "other.host" in p]
    assert found and found[0].startswith("index.html: ") and "another host" in found[0]


def test_a_link_to_another_host_is_fine(site: Path) -> None:
    """An ordinary `<a href>` elsewhere is a link the visitor chooses, not a load."""
    page = site / "index.html"
    page.write_text(page.read_text().replace("</body>",
                                             '<a href="https://other.host/">x</a></body>'))
    for copy in (".gz", ".br"):
        Path(f"{page}{copy}").unlink(missing_ok=True)
    assert verify_site(site).problems == ()


def test_prefix_is_read_from_a_site_whose_names_need_encoding(
    registry: FolderRegistry, project: Path, tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    """Without --site-url, verify finds /voice/ even when file names are percent-encoded."""
    registry.add("v1.0.0", {"App v1 (x64) 100%+ü.zip": b"one", "docs/Hand buch ä.pdf": b"p"})
    out = project / "public"
    assert run_cli("build", "--config", str(project / "mkdocs.yml"), "--from-dir",
                   str(registry.root), "--output", str(out), "--cache-dir",
                   str(tmp_path / "cache"), "--site-url", SITE_URL).code == 0
    result = run_cli("verify", str(out))
    assert result.code == 0, result.out + result.err
