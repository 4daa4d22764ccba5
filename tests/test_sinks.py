"""Every output language escapes hostile names its own way: `_redirects`, HTML, shell lines.

Names here pass the source boundary (they are legal file names), so only the escaping of
each renderer stands between them and a splat rule, an element or a broken command line.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from site_builder.catalog import Artifact, PackageVersion, build_catalog
from site_builder.layout import SiteLayout
from site_builder.redirects import parse_redirects
from site_builder.render.links import redirect_rules

SHA = "ab" * 32

# internal/redirects (gitlab-pages): what turns a rule path into a pattern or a template.
PAGES_SPLAT = re.compile(r"^\*$")
PAGES_PLACEHOLDER = re.compile(r"(?i)^:[a-z]+$")
PAGES_TEMPLATE = re.compile(r"(?i)\*|:[a-z]+")


def catalog_of(*names: str, version: str = "v1.0.0"):  # type: ignore[no-untyped-def]
    row = PackageVersion(
        package="App", version=version, created_at=datetime(2026, 1, 1, tzinfo=UTC),
        files=tuple(Artifact(name=n, size=1, sha256=SHA, file_id=i) for i, n in enumerate(names)),
    )
    return build_catalog([row], package="App")


def test_redirect_rules_never_become_splats_or_placeholders() -> None:
    """Files named `*`, `:x` and `v1-:b*c` give literal `_redirects` paths: no source segment
    is a splat or placeholder, no target holds a template (Pages only templates targets)."""
    catalog = catalog_of("*", ":x", "v1-:b*c.zip", "sub/:name/f.zip")
    layout = SiteLayout(site_url="https://group.gitlab.io/app/")
    text = redirect_rules(catalog, layout, legacy=False)
    rules = text.decode().splitlines()
    assert len(rules) == 18  # 4 files, 4 sidecars, SHA256SUMS; with and without /app
    for rule in rules:
        source, target, status = rule.split(" ")
        assert status == "302"
        for segment in source.split("/"):
            assert not PAGES_SPLAT.match(segment) and not PAGES_PLACEHOLDER.match(segment), rule
        assert not PAGES_TEMPLATE.search(target), rule
    assert "/app/latest/download/%2A /app/download/v1.0.0/%2A 302" in rules
    assert "/app/latest/download/%3Ax /app/download/v1.0.0/%3Ax 302" in rules
    # A `:` or `*` inside a segment is literal to Pages, so that alias keeps working.
    hit = parse_redirects(text).resolve("/app/latest/download/v1-:b*c.zip")
    assert hit is not None and hit.location == "/app/download/v1.0.0/v1-:b*c.zip"


def test_a_file_named_star_does_not_capture_other_aliases() -> None:
    """Served as GitLab Pages serves it, a `*` file's rule answers no other alias's request."""
    catalog = catalog_of("*", ":x", "App-v1.0.0.zip")
    layout = SiteLayout(site_url="https://group.gitlab.io/app/")
    rules = parse_redirects(redirect_rules(catalog, layout))
    hit = rules.resolve("/app/latest/download/App-latest.zip")
    assert hit is not None and hit.location == "/app/download/v1.0.0/App-v1.0.0.zip"
    assert rules.resolve("/app/latest/download/anything-else.zip") is None
    # `:x.sha256` is one literal segment to Pages: it answers its own file, never a template.
    sidecar = rules.resolve("/app/latest/download/:x.sha256")
    assert sidecar is not None and sidecar.location == "/app/download/v1.0.0/:x.sha256"
    assert rules.resolve("/app/latest/download/:x") is None  # a lone `:x` is made inert
