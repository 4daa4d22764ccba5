"""A site of 10,000 files and more aliases than `_redirects` may hold stays within GitLab
Pages' limits (200,000 entries; 1,000 rules and 64 KiB of `_redirects`), or fails before a byte
is fetched, naming the limit."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from site_builder.budget import PAGES_MAX_FILES, check_budget
from site_builder.catalog import Artifact, Catalog, PackageVersion, build_catalog
from site_builder.errors import BudgetError
from site_builder.layout import SiteLayout
from site_builder.redirects import MAX_BYTES, MAX_RULES
from site_builder.render.machine import machine_files

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def catalog(versions: int, files: int) -> Catalog:
    rows = [
        PackageVersion(
            package="App",
            version=f"v1.{i}.0",
            created_at=WHEN + timedelta(minutes=i),
            files=tuple(Artifact(name=f"App-v1.{i}.0-part{k:04}.bin", size=10,
                                 sha256=f"{i:032x}{k:032x}") for k in range(files)),
        )
        for i in range(versions)
    ]
    return build_catalog(rows, package="App")


def test_ten_thousand_files_fit_and_redirects_stay_within_pages_limits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """20 versions x 500 files: the budget passes; `_redirects` keeps to 1,000 rules, 64 KiB."""
    big = catalog(20, 500)
    check_budget(big, max_bytes=1024**3)  # 10,000 files are far from 200,000 entries
    layout = SiteLayout(site_url="https://group.gitlab.io/speech-to-text/")
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.downloads"):
        files = machine_files(big, layout)
    redirects = files["_redirects"]
    rules = redirects.decode().splitlines()
    assert len(rules) <= MAX_RULES and len(redirects) <= MAX_BYTES
    assert len(rules) > 500  # as many as fit, not none
    assert rules[0].startswith("/speech-to-text/latest/download/")
    assert all("/latest/download/" in r.split()[0] and r.endswith(" 302") for r in rules)
    assert "GitLab Pages reads 1,000 rules or 64 KiB" in caplog.text


def test_too_many_files_fail_before_fetching_naming_the_limit() -> None:
    """A site over 200,000 entries is refused by the budget check, which runs before fetching."""
    huge = catalog(200, 600)  # 120,000 files plus their .sha256 sidecars
    with pytest.raises(BudgetError, match=f"limit of {PAGES_MAX_FILES:,}"):
        check_budget(huge, max_bytes=10 * 1024**4)
