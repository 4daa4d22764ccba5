"""`.gitlab-ci.yml`: the jobs, when each runs, what Pages deploys, and commands our CLI accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder.cli import build_parser

CI_FILE = Path(__file__).resolve().parent.parent / ".gitlab-ci.yml"
CONFIG: dict[str, Any] = yaml.safe_load(CI_FILE.read_text(encoding="utf-8"))
RESERVED = {"default", "stages", "variables", "workflow", "include", "image", "cache"}
JOBS = {name: job for name, job in CONFIG.items() if name not in RESERVED}
DEPLOY = next(name for name, job in JOBS.items() if "pages" in job)  # the `pages:` keyword

# Pipelines as GitLab describes them with predefined variables.
TAG = {"CI_COMMIT_TAG": "v1.2.0", "CI_PIPELINE_SOURCE": "push", "CI_DEFAULT_BRANCH": "main"}
PRE_TAG = {**TAG, "CI_COMMIT_TAG": "2.0.0-rc.1"}
OTHER_TAG = {**TAG, "CI_COMMIT_TAG": "docs-fix"}
DEFAULT_BRANCH = {"CI_COMMIT_BRANCH": "main", "CI_PIPELINE_SOURCE": "push",
                  "CI_DEFAULT_BRANCH": "main"}
SCHEDULE = {**DEFAULT_BRANCH, "CI_PIPELINE_SOURCE": "schedule"}
OTHER_SCHEDULE = {**SCHEDULE, "CI_COMMIT_BRANCH": "old-release"}
FEATURE = {"CI_COMMIT_BRANCH": "fix-typo", "CI_PIPELINE_SOURCE": "push",
           "CI_DEFAULT_BRANCH": "main"}
MERGE_REQUEST = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_DEFAULT_BRANCH": "main",
                 "CI_MERGE_REQUEST_IID": "7"}
STRAPI = {"STRAPI_URL": "https://cms.example.com"}


def _value(term: str, env: dict[str, str]) -> str | None:
    """A variable's value (None when undefined, as GitLab's `null`) or a quoted string."""
    term = term.strip()
    if term.startswith("$"):
        return env.get(term[1:])
    return None if term == "null" else term.strip("\"'")


def _condition(expression: str, env: dict[str, str]) -> bool:
    """The subset of GitLab's `rules:if` this file uses: $VAR, ==, !=, =~ /re/, && and ||."""
    for alternative in expression.split("||"):
        results = []
        for atom in alternative.split("&&"):
            if "=~" in atom:
                left, pattern = atom.split("=~")
                regex = pattern.strip().removeprefix("/").removesuffix("/")
                results.append(re.search(regex, _value(left, env) or "") is not None)
            elif "==" in atom or "!=" in atom:
                operator = "==" if "==" in atom else "!="
                left, right = atom.split(operator)
                equal = _value(left, env) == _value(right, env)
                results.append(equal if operator == "==" else not equal)
            else:
                results.append(bool(_value(atom, env)))
        if all(results):
            return True
    return False


def runs(job_name: str, env: dict[str, str]) -> bool:
    """Whether GitLab creates the job in a pipeline with these variables (first rule wins)."""
    rules = JOBS[job_name].get("rules")
    if rules is None:
        return True
    for rule in rules:
        if "if" not in rule or _condition(rule["if"], env):
            return rule.get("when", "on_success") != "never"
    return False


def script_lines() -> list[tuple[str, str]]:
    """Every (job, line) of every script section that runs site-builder."""
    found = []
    for name, job in JOBS.items():
        for key in ("before_script", "script", "after_script"):
            lines = job.get(key, [])
            for line in [lines] if isinstance(lines, str) else lines:
                if "site-builder" in line:
                    found.append((name, line))
    return found


def test_the_four_jobs_exist_in_stage_order() -> None:
    """test, the deploy job, release and notify run in that order of stages."""
    stages = CONFIG["stages"]
    order = [stages.index(JOBS[name]["stage"]) for name in ("test", DEPLOY, "release", "notify")]
    assert order == sorted(order) and len(set(order[:3])) == 3


def test_the_deploy_job_has_a_name_that_says_what_it_does() -> None:
    """GitLab 17.9+ deploys from the `pages:` keyword; the job is not merely named `pages`,
    and the file says what to do on older GitLab."""
    assert DEPLOY != "pages" and "pages" not in JOBS
    text = CI_FILE.read_text()
    assert "17.9" in text and "rename this job to `pages`" in text


def test_later_jobs_fetch_no_site_artifact() -> None:
    """release and notify wait for the deploy but download none of the site (up to
    max_site_size); notify reads latest.json from the deployed site."""
    for name in ("release", "notify"):
        assert JOBS[name]["needs"] == [{"job": DEPLOY, "artifacts": False}]
    notify = " ".join(JOBS["notify"]["script"])
    assert "index.json" in notify and "--from-site \"$CI_PAGES_URL\"" in notify
    assert "time.monotonic() + 600" in notify  # the wait has a deadline


def test_deploys_are_ordered_and_caches_cheap() -> None:
    """One resource group serializes deploy jobs; the build runs inside that job."""
    deploy = JOBS[DEPLOY]
    assert deploy["resource_group"]
    assert any(" build" in line for line in deploy["script"])
    assert "oldest_first" in CI_FILE.read_text()
    assert deploy["variables"]["CACHE_COMPRESSION_LEVEL"] == "fastest"


def test_test_job_runs_pytest_everywhere() -> None:
    """The test job runs on every pipeline, through the README's command (.ci/run runs pytest)."""
    assert runs("test", FEATURE) and runs("test", TAG) and runs("test", MERGE_REQUEST)
    script = " ".join(JOBS["test"]["script"])
    assert "pytest" in script or ".ci/run" in script
    assert "pytest" in (CI_FILE.parent / ".ci" / "run").read_text()


@pytest.mark.parametrize(
    ("job", "env", "expected"),
    [
        (DEPLOY, TAG, True),
        (DEPLOY, PRE_TAG, True),
        (DEPLOY, OTHER_TAG, False),
        (DEPLOY, DEFAULT_BRANCH, True),
        (DEPLOY, SCHEDULE, True),
        (DEPLOY, OTHER_SCHEDULE, False),
        (DEPLOY, FEATURE, False),
        (DEPLOY, MERGE_REQUEST, False),
        ("release", TAG, True),
        ("release", PRE_TAG, True),
        ("release", OTHER_TAG, False),
        ("release", DEFAULT_BRANCH, False),
        ("release", SCHEDULE, False),
        ("notify", {**TAG, **STRAPI}, True),
        ("notify", {**PRE_TAG, **STRAPI}, False),
        ("notify", {**OTHER_TAG, **STRAPI}, False),
        ("notify", {**TAG, "STRAPI_URL": ""}, False),
        ("notify", TAG, False),
        ("notify", {**DEFAULT_BRANCH, **STRAPI}, False),
        ("notify", {**SCHEDULE, **STRAPI}, False),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_rules(job: str, env: dict[str, str], expected: bool) -> None:
    """deploy: version tags and the default branch (its schedules too, no other branch's);
    release: version tags; notify: stable version tags with STRAPI_URL."""
    assert runs(job, env) is expected


def test_pages_publishes_public_old_and_new_style() -> None:
    """`pages: {publish: public}` for GitLab 17.9+, and `artifacts: paths: [public]` before."""
    pages = JOBS[DEPLOY]
    assert pages["pages"]["publish"] == "public"
    assert "public" in pages["artifacts"]["paths"]
    assert any("--output public" in line for _, line in script_lines() if "build" in line)


def test_pages_caches_the_download_cache() -> None:
    """The folder `--cache-dir` names is the folder the job caches, under a fixed key."""
    pages = JOBS[DEPLOY]
    build = next(line for job, line in script_lines() if job == DEPLOY and " build" in line)
    cache_dir = shlex.split(build)[shlex.split(build).index("--cache-dir") + 1]
    assert pages["cache"]["paths"] == [cache_dir] == [".cache/site-builder"]
    assert pages["cache"]["key"] and "$" not in str(pages["cache"]["key"])


def test_no_secret_on_a_command_line() -> None:
    """Tokens come from the environment only: no script passes one."""
    for _, line in script_lines():
        assert not re.search(r"TOKEN|PASSWORD|SECRET", line), line


def _expand(line: str) -> str:
    """`$VAR` and `${VAR}` → a dummy value, as the shell in the job would expand them."""
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: f"dummy-{m.group(1)}", line)


def _subcommands() -> set[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return set(action.choices or ())  # type: ignore[arg-type]


@pytest.mark.parametrize(("job", "line"), script_lines(), ids=lambda v: v[:40])
def test_every_site_builder_command_parses(job: str, line: str) -> None:
    """Each `site-builder …` line in a script is accepted by the CLI's own parser."""
    words = shlex.split(_expand(line), comments=True)
    argv = words[words.index("site-builder") + 1:]
    assert argv[0] in _subcommands(), f"{job}: `site-builder {argv[0]}` is no command of the CLI"
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:
        pytest.fail(f"{job}: `{line}` is refused by the CLI (exit {e.code})")
    assert args.command == argv[0]
