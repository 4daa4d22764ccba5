"""A new user's mistakes end in one line that says what to do, before anything is fetched."""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import REPO, CliResult, FolderRegistry
from fake_object_store import FakeHTTPServer, Request
from mkdocs.config import config_options as c
from mkdocs.config.base import ValidationError
from mkdocs.exceptions import Abort

from site_builder.cli import build_parser
from site_builder.errors import SourceError
from site_builder.gitlab import GitLabClient, RetryPolicy
from site_builder.options import StrictConfig
from site_builder.plugin import DownloadsConfig

PATIENT = RetryPolicy(max_attempts=5, base_wait=0.01, max_wait=0.01)


class Recorder(FakeHTTPServer):
    """A server that must never be asked: any request is a mistake reported too late."""

    def route(self, req: Request) -> None:
        req.send_json(404, {"message": "should not have been asked"})


@pytest.fixture
def server() -> Iterator[Recorder]:
    with Recorder() as recorder:
        yield recorder


def with_plugin_options(project: Path, text: str) -> None:
    """Add `text` (YAML lines) under `downloads:` of the project's mkdocs.yml."""
    config = project / "mkdocs.yml"
    lines = "".join(f"\n      {line}" for line in text.splitlines())
    config.write_text(config.read_text(encoding="utf-8").replace(
        "package: VoiceInput", "package: VoiceInput" + lines), encoding="utf-8")


@pytest.fixture
def built(registry: FolderRegistry) -> FolderRegistry:
    registry.add("v1.0.0", {"VoiceInput-v1.0.0.zip": b"zip"})
    return registry


# -- plugin options -------------------------------------------------------------------------

def test_misspelt_option_is_an_error_that_names_the_right_one(
    build: Callable[..., CliResult], project: Path, built: FolderRegistry
) -> None:
    """`kep: 3` fails the build (no site written) with "did you mean `keep`"."""
    with_plugin_options(project, "kep: 3")
    result = build()
    assert result.code == 1
    assert "did you mean `keep`?" in result.error
    assert result.error.startswith(f"site-builder: error: {project / 'mkdocs.yml'}, the "
                                   "downloads plugin: there is no option `kep`")
    assert not (project / "public").exists()


def test_plain_mkdocs_refuses_a_misspelt_option_too(project: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """`mkdocs build` reads the same config class: an error, not a warning."""
    from mkdocs.config import load_config

    with_plugin_options(project, "prerelease: false")
    with pytest.raises(Abort):
        load_config(str(project / "mkdocs.yml"))
    assert "did you mean `prereleases`?" in caplog.text


def test_the_known_names_are_the_declared_options() -> None:
    """The check reads the config class, so an option another change declares just works."""

    class Grown(DownloadsConfig):
        public_key = c.Optional(c.Type(str))

    config = Grown()
    config.load_dict({"public_key": "RWQ…", "publik_key": "x"})
    errors, _ = config.validate()
    [(key, error)] = errors
    assert key == "publik_key" and "did you mean `public_key`?" in str(error)
    named = re.search(r"the options are (.*)\)", str(error))
    assert named is not None
    assert named[1].split(", ") == sorted(name for name, _ in Grown._schema)


@pytest.mark.parametrize(("line", "message"), [
    ('keep: "three"', '`keep` must be a whole number (got "three")'),
    ("keep: true", "`keep` must be a whole number (got true)"),
    ("prereleases: maybe", '`prereleases` must be true or false (got "maybe")'),
    ("strapi: [1]", "`strapi` must be a mapping"),
])
def test_type_errors_are_said_in_words(build: Callable[..., CliResult], project: Path,
                                       built: FolderRegistry, line: str, message: str) -> None:
    """No `Expected type: <class 'int'>`: the option, the kind of value, what was written."""
    with_plugin_options(project, line)
    result = build()
    assert result.code == 1 and message in result.error
    assert "<class" not in result.err


def test_a_strict_config_without_mistakes_is_quiet() -> None:
    """Known names of the right types: no errors, no warnings."""

    class Small(StrictConfig):
        count = c.Type(int, default=1)

    config = Small()
    config.load_dict({"count": 3})
    assert config.validate() == ([], [])
    config.load_dict({"count": "x"})
    errors, _ = config.validate()
    assert errors == [("count", ValidationError('`count` must be a whole number (got "x")'))]


@pytest.mark.parametrize(("line", "needle"), [
    ("download_path: ../{version}/{file}", "'..'"),
    ("download_path: /srv/{version}/{file}", "relative path"),
    ("download_path: download/{ver}/{file}", "must hold {version}"),
    ("download_path: download/{version}/{arch}/{file}", "only placeholder"),
    ("download_path: download/{version}/{file}.zip", "last part must be {file}"),
    ("download_path: 'download\\\\{version}/{file}'", "relative path"),
    ("project: /group/", "is not a GitLab project"),
    ("package: 'Voice Input'", "not a GitLab generic package name"),
    ("api_url: notaurl", "is not an http(s) URL"),
    ("api_url: https://gitlab.example.com", "must end in /api/v4"),
    ("max_site_size: lots", "is not a size"),
    ("strapi: {colection: apps}", "strapi has no option `colection`: did you mean `collection`?"),
    ("strapi: {publish: sometimes}", 'strapi.publish "sometimes" is not one of safe, all'),
])
def test_bad_values_fail_before_any_request(run_cli: Callable[..., CliResult], project: Path,
                                            server: Recorder, tmp_path: Path,
                                            line: str, needle: str) -> None:
    """Each value is checked up front: one line, exit 1, the registry never asked."""
    with_plugin_options(project, line)
    result = run_cli("build", "--config", str(project / "mkdocs.yml"),
                     "--output", str(project / "public"), "--cache-dir", str(tmp_path / "c"),
                     *(() if "api_url" in line else ("--api-url", server.url + "/api/v4")),
                     *(() if "project" in line else ("--project", "42")))
    assert result.code == 1 and needle in result.error, result.err
    assert server.requests == []
    assert not (project / "public").exists()


def test_a_value_names_where_it_came_from(run_cli: Callable[..., CliResult], project: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The same mistake from CI's variable points at the variable."""
    monkeypatch.setenv("CI_API_V4_URL", "gitlab.example.com/api/v4")
    result = run_cli("build", "--config", str(project / "mkdocs.yml"), "--project", "42")
    assert result.code == 1 and "($CI_API_V4_URL)" in result.error


# -- URLs that cannot work are not retried --------------------------------------------------

def test_api_url_that_is_not_a_url_fails_at_once(run_cli: Callable[..., CliResult],
                                                 project: Path) -> None:
    """`--api-url notaurl`: one line that says what to write, no attempts."""
    started = time.monotonic()
    result = run_cli("build", "--config", str(project / "mkdocs.yml"),
                     "--api-url", "notaurl", "--project", "42")
    assert result.code == 1
    assert result.error == (
        "site-builder: error: the GitLab API URL 'notaurl' (--api-url) is not an http(s) URL: "
        "write it like https://gitlab.example.com/api/v4")
    assert time.monotonic() - started < 30  # no retries with back-off (generous: loaded CI)


def test_client_does_not_retry_an_unsupported_scheme() -> None:
    """A scheme httpx cannot speak fails on the first attempt; retrying cannot help."""
    with GitLabClient("ftp://127.0.0.1:9/api/v4", "42", None, retry=PATIENT) as client, \
            pytest.raises(SourceError) as caught:
        client.get_json("/projects/42")
    assert "attempt" not in str(caught.value) and "check the API URL" in str(caught.value)


def test_client_retries_a_refused_connection_a_few_times() -> None:
    """Nothing listening may be a server starting up: retried, then one line."""
    with GitLabClient("http://127.0.0.1:9/api/v4", "42", None, retry=PATIENT) as client, \
            pytest.raises(SourceError, match="after 5 attempts"):
        client.get_json("/projects/42")


# -- flags and help -------------------------------------------------------------------------

def test_misspelt_flag_prints_the_commands_usage(run_cli: Callable[..., CliResult]) -> None:
    """`build --sit-url`: the build usage, then `did you mean --site-url?`, exit 2."""
    result = run_cli("build", "--sit-url", "https://x.example/")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert lines[0].startswith("usage: site-builder build ")
    assert lines[-1] == ("site-builder build: error: unrecognized arguments: --sit-url "
                         "https://x.example/; did you mean --site-url?")


def test_flag_of_another_command_says_whose_it_is(run_cli: Callable[..., CliResult]) -> None:
    """`notify --api-url` is not a typo: say which commands take it."""
    result = run_cli("notify", "--api-url", "https://gitlab.example.com/api/v4")
    assert result.code == 2
    assert result.err.strip().splitlines()[-1].endswith(
        "--api-url is an option of build, serve, publish, release, not of notify")


def test_unknown_flag_without_a_close_one_points_at_help(
        run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("release", "--zzz")
    assert result.code == 2
    assert result.err.strip().splitlines()[-1].endswith("; see site-builder release --help")


def test_misspelt_command_suggests_the_command(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("biuld")
    assert result.code == 2 and result.err.strip().endswith("; did you mean build?")


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_command_and_option_has_help() -> None:
    """`--help` of each command has a description, and every option says what it is for."""
    commands = _commands()
    assert {"build", "serve", "publish", "release", "notify", "verify"} <= set(commands)
    for name, command in commands.items():
        assert command.description, f"{name} --help has no description"
        for action in command._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_notify_help_lists_only_what_notify_uses(run_cli: Callable[..., CliResult]) -> None:
    """notify reads a built site and Strapi: no GitLab project options."""
    result = run_cli("notify", "--help")
    assert result.code == 0
    for unused in ("--api-url", "--project", "--package"):
        assert unused not in result.out
    for used in ("--from-site", "--site-url", "--config", "--dry-run"):
        assert used in result.out


def test_readme_states_python_and_a_loopback_preview() -> None:
    """A first-day user learns the Python version and previews on this machine only."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "Python 3.11 or newer" in readme
    previews = re.findall(r"python3? -m http\.server[^`\n]*", readme)
    assert previews and all("-b 127.0.0.1" in p for p in previews)


# -- the output folder and other flags -------------------------------------------------------

def test_output_that_is_not_a_site_folder_is_left_alone(
    build: Callable[..., CliResult], project: Path, built: FolderRegistry, tmp_path: Path
) -> None:
    """`--output` naming a file, or a folder of other things, would be replaced by the swap:
    refused before any work, both left exactly as they were."""
    notes = tmp_path / "notes.txt"
    notes.write_text("mine", encoding="utf-8")
    result = build("--output", str(notes))
    assert result.code == 1 and "is not a folder" in result.error
    assert notes.read_text(encoding="utf-8") == "mine"
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "thesis.odt").write_bytes(b"years of work")
    result = build("--output", str(documents))
    assert result.code == 1 and "holds no built site (no index.html)" in result.error
    assert [p.name for p in documents.iterdir()] == ["thesis.odt"]


def test_rebuilding_into_an_earlier_output_works(build: Callable[..., CliResult],
                                                 project: Path, built: FolderRegistry) -> None:
    assert build().code == 0 and build().code == 0
    assert (project / "public" / "index.html").is_file()


@pytest.mark.parametrize(("args", "needle"), [
    (("serve", "--dev-addr", "nonsense"), "argument --dev-addr: 'nonsense' is not HOST:PORT"),
    (("serve", "--dev-addr", "127.0.0.1:99999"), "is not HOST:PORT, e.g. 127.0.0.1:8000"),
])
def test_bad_flag_values_are_usage_errors(run_cli: Callable[..., CliResult],
                                          args: tuple[str, ...], needle: str) -> None:
    result = run_cli(*args)
    assert result.code == 2 and needle in result.err.strip().splitlines()[-1]


def test_site_url_needs_a_host(build: Callable[..., CliResult], built: FolderRegistry) -> None:
    result = build("--site-url", "https://")
    assert result.code == 1 and "must be an https:// (or http://) URL with a host" in result.error


def test_misspelt_plugin_name_suggests_downloads(run_cli: Callable[..., CliResult],
                                                 project: Path) -> None:
    """`- download:` under `plugins:`: MkDocs says it is not installed; we say which is."""
    config = project / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("- downloads:", "- download:"),
                      encoding="utf-8")
    result = run_cli("build", "--config", str(config))
    assert result.code == 1
    assert result.error.endswith('The "download" plugin is not installed; did you mean '
                                 "`downloads`?")


@pytest.mark.parametrize(("args", "last_line"), [
    ((), "site-builder: error: the following arguments are required: COMMAND; "
         "see site-builder --help"),
    (("publish",), "site-builder publish: error: the following arguments are required: PATH; "
                   "see site-builder publish --help"),
])
def test_missing_arguments_point_at_help(run_cli: Callable[..., CliResult],
                                         args: tuple[str, ...], last_line: str) -> None:
    result = run_cli(*args)
    assert result.code == 2 and result.err.strip().splitlines()[-1] == last_line
