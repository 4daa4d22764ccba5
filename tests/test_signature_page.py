"""The signature on the landing page, in real headless Chromium: status, command, copy."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import axe_violations, serve_site
from test_browser import PREFIX, Site, browser, visit

from site_builder.cli import main
from site_builder.signing import generate_key_pair, load_signing_key, trusted_comment

__all__ = ["browser", "visit"]  # fixtures shared with the browser tests
REPO = Path(__file__).resolve().parent.parent


def sign_folder_registry(registry: Path, key_file: Path) -> None:
    """What `publish --sign` uploads, written beside each version's files of a folder registry."""
    with load_signing_key({"MINISIGN_SECRET_KEY_FILE": str(key_file)}) as key:
        for folder in sorted((registry / "VoiceInput").iterdir()):
            files = sorted(p for p in folder.rglob("*") if p.is_file()
                           and not any(x.startswith(".") for x in p.relative_to(folder).parts))
            sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  "
                           f"{p.relative_to(folder).as_posix()}\n" for p in files).encode()
            (folder / "SHA256SUMS").write_bytes(sums)
            (folder / "SHA256SUMS.minisig").write_bytes(
                key.sign(sums, comment=trusted_comment("VoiceInput", folder.name)))


@pytest.fixture(scope="module")
def signed_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    """The sample registry, every version signed, built with the public key and served."""
    work = tmp_path_factory.mktemp("signed")
    public = generate_key_pair(work / "keys", password=None)
    shutil.copytree(REPO / "examples" / "registry", work / "registry")
    sign_folder_registry(work / "registry", work / "keys" / "minisign.key")
    for name in ("content", "theme"):
        shutil.copytree(REPO / name, work / name)
    shutil.copy(REPO / "mkdocs.yml", work / "mkdocs.yml")
    with serve_site(work / "public", prefix=PREFIX) as server:
        code = main(["build", "--config", str(work / "mkdocs.yml"), "--from-dir",
                     str(work / "registry"), "--output", str(work / "public"), "--cache-dir",
                     str(work / "cache"), "--site-url", server.url, "--public-key",
                     public.line])
        assert code == 0, "the signed sample did not build"
        yield Site(root=work / "public", url=server.url), public.line


def test_landing_page_shows_and_copies_the_signature_check(
    signed_site: tuple[Site, str], visit: Any
) -> None:
    """A visitor sees "Signed", the minisign command with the key, and copies it in one click."""
    site, line = signed_site
    seen = visit(site.url)
    origin = site.url.removesuffix(PREFIX + "/")
    seen.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    block = seen.page.locator("[data-sb-signature]")
    assert block.get_attribute("data-signed") == "true"
    status = block.locator(".sb-signature-status")
    assert status.is_visible() and status.inner_text().startswith("Signed")
    command = block.locator("[data-sb-minisign]")
    assert command.is_visible()
    assert command.inner_text().strip() == f"minisign -Vm SHA256SUMS -P {line}"
    button = block.get_by_role("button", name="Copy the minisign command")
    assert button.is_visible()
    button.click()
    copied = seen.page.evaluate("navigator.clipboard.readText()")
    assert copied == f"minisign -Vm SHA256SUMS -P {line}"
    assert "Copied" in button.inner_text()
    assert "What it proves" in block.inner_text()
    for name in ("SHA256SUMS", "SHA256SUMS.minisig", "minisign.pub"):
        link = block.get_by_role("link", name=name, exact=True)
        response = seen.page.request.get(link.evaluate("a => a.href"))
        assert response.ok, name
    key_link = seen.page.locator(".sb-footer").get_by_role("link", name="Signing key (minisign)")
    assert seen.page.request.get(key_link.evaluate("a => a.href")).text().strip().endswith(line)
    assert axe_violations(seen.page) == []  # the signature block passes WCAG 2.2 AA too
    assert seen.errors == [] and seen.outside() == []
    if shot := os.environ.get("SB_SCREENSHOT"):  # to look at it: SB_SCREENSHOT=/tmp/sig.png
        block.screenshot(path=shot)
