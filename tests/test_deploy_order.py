"""Pushing a commit and its tag together: two pipelines, two Pages deploys, one site left.

The CI file (tests/test_gitlab_ci.py checks it) puts every deploy job in one resource group
and builds inside that job. Here both pipelines run against a registry folder, with real
builds, in every order that resource group allows; the site GitLab keeps (the last deploy)
must be the one with the tag's version. A build outside the group shows what goes wrong.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from conftest import CliResult, FolderRegistry
from test_gitlab_ci import DEPLOY, JOBS

SITE_URL = "https://group.gitlab.io/speech-to-text/"


class Pages:
    """The registry, builds of it (one per registry state: a build reads nothing else), and
    the live site: whatever the last deploy published."""

    def __init__(self, registry: FolderRegistry, build: Callable[..., CliResult],
                 work: Path) -> None:
        self.registry, self.build, self.work = registry, build, work
        self.builds: dict[tuple[str, ...], Path] = {}
        self.live: Path | None = None
        registry.add("v1.0.0", {"VoiceInput-v1.0.0.zip": b"one"})

    def state(self) -> tuple[str, ...]:
        return tuple(sorted(p.name for p in (self.registry.root / "VoiceInput").iterdir()))

    def upload_tag(self) -> None:
        """The tag pipeline's upload job: `site-builder publish` of v1.1.0."""
        self.registry.add("v1.1.0", {"VoiceInput-v1.1.0.zip": b"one point one"})

    def build_now(self) -> Path:
        state = self.state()
        if state not in self.builds:
            output = self.work / f"build-{len(self.builds)}"
            result = self.build("--site-url", SITE_URL, "--output", str(output))
            assert result.code == 0, result.err
            self.builds[state] = output
        return self.builds[state]

    def publish(self, site: Path) -> None:
        self.live = site

    def latest(self) -> str:
        assert self.live is not None
        return str(json.loads((self.live / "latest.json").read_text())["version"])


def serialized_orders() -> Iterator[list[str]]:
    """Every interleaving of the tag pipeline (upload, then deploy) and the branch pipeline
    (deploy), each deploy job one step: the resource group never lets two overlap."""
    for order in itertools.permutations(["upload", "tag-deploy", "branch-deploy"]):
        if order.index("upload") < order.index("tag-deploy"):
            yield list(order)


def test_every_order_the_resource_group_allows_ends_with_the_tag(
        registry: FolderRegistry, build: Callable[..., CliResult], tmp_path: Path) -> None:
    """Branch deploy before, between or after the tag pipeline: v1.1.0 is what stays."""
    assert JOBS[DEPLOY]["resource_group"]  # the CI file's promise this test relies on
    orders = list(serialized_orders())
    assert len(orders) == 3
    for order in orders:
        shutil.rmtree(registry.root, ignore_errors=True)
        pages = Pages(registry, build, tmp_path)
        for step in order:
            if step == "upload":
                pages.upload_tag()
            else:  # a deploy job: build from the registry as it is now, then publish
                pages.publish(pages.build_now())
        assert pages.latest() == "v1.1.0", order


def test_without_the_group_the_branch_can_deploy_a_stale_site(
        registry: FolderRegistry, build: Callable[..., CliResult], tmp_path: Path) -> None:
    """The failure the group prevents: the branch builds before the upload, deploys last."""
    pages = Pages(registry, build, tmp_path)
    branch_site = pages.build_now()          # branch job starts before the upload
    pages.upload_tag()
    pages.publish(pages.build_now())         # tag job runs meanwhile and deploys
    pages.publish(branch_site)               # the slow branch job finishes last
    assert pages.latest() == "v1.0.0"
