"""The `site-builder` command line: parse, wire, report.

Exit status: 0 success; 1 the work failed (one line on stderr says what and what to do);
2 usage error (argparse); 130 or 143 stopped by SIGINT (Ctrl-C) or SIGTERM, within two seconds,
downloads cancelled and nothing half-written left behind. Every message passes through
`auth.redact`, so no token is ever printed, whatever an error or a library put in it.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .auth import RedactingFilter, redact
from .bounds import interruptible
from .errors import ConfigError, Interrupted, SiteBuilderError
from .options import did_you_mean

Runner = Callable[[argparse.Namespace], int]

log = logging.getLogger("mkdocs.plugins.downloads")


class CommandParser(argparse.ArgumentParser):
    """A parser whose mistakes end in one line naming the command and the likely fix.

    argparse hands a subcommand's unknown flags up to the top-level parser, which then prints
    its own usage; here the command reports them, with `did you mean --site-url?`.
    """

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras and self._subparsers is None:  # a command, not the top level
            self.error(f"unrecognized arguments: {' '.join(extras)}{self._suggestion(extras)}")
        return parsed, extras

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # flag -> the commands that take it; filled in by build_parser once all commands exist
        self.elsewhere: dict[str, list[str]] = {}

    def _suggestion(self, extras: Sequence[str]) -> str:
        flags = [flag for action in self._actions for flag in action.option_strings]
        for extra in extras:
            flag = extra.partition("=")[0]
            if flag in self.elsewhere:
                return (f"; {flag} is an option of {', '.join(self.elsewhere[flag])}, "
                        f"not of {self.prog.rpartition(' ')[2]}")
            if extra.startswith("--"):
                close = did_you_mean(flag, flags)
                if close:
                    return ";" + close.replace("`", "")
        return f"; see {self.prog} --help"

    def error(self, message: str) -> NoReturn:
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:  # a misspelt command
            names = re.findall(r"'([^']*)'", choice[2])
            message += ";" + (did_you_mean(choice[1], names).replace("`", "")
                              or f" see {self.prog} --help")
        elif "--help" not in message and "did you mean" not in message and ";" not in message:
            message += f"; see {self.prog} --help"  # every usage error says what to do
        super().error(message)


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """Options every command that reads mkdocs.yml takes: the file, and how much to say."""
    parser.add_argument("--config", default="mkdocs.yml", metavar="FILE",
                        help="MkDocs configuration with a `downloads` plugin (default: mkdocs.yml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug output")
    parser.add_argument("-q", "--quiet", action="store_true", help="show warnings and errors only")


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options of the commands that speak to GitLab: the config, the project, the package."""
    add_config_option(parser)
    parser.add_argument("--api-url", metavar="URL",
                        help="GitLab API v4 URL (default: $CI_API_V4_URL)")
    parser.add_argument("--project", metavar="ID|PATH",
                        help="GitLab project id or path (default: $CI_PROJECT_ID)")
    parser.add_argument("--package", metavar="NAME", help="generic package name")


def flags_of(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The options the user actually gave, by their settings names."""
    return {n: getattr(args, n) for n in names if getattr(args, n, None) not in (None, "")}


def load_mkdocs_config(path: str, **overrides: Any) -> Any:
    """Load and validate `mkdocs.yml`, turning MkDocs' complaints into a ConfigError."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import ConfigurationError

    if not Path(path).is_file():
        raise ConfigError(f"{path} not found: run in the project folder or pass --config FILE")
    try:
        return load_config(config_file=path, **overrides)
    except ConfigurationError as e:
        raise ConfigError(f"{path} is not valid: {e}") from e


def plugin_options(path: str) -> tuple[dict[str, Any], str | None, Path]:
    """The `downloads` options of a config file (empty if it has none), its site_url, folder.

    For commands that need the settings without building (publish, release, notify).
    """
    if not Path(path).is_file():
        return {}, None, Path.cwd()
    config = load_mkdocs_config(path)
    plugin = config.plugins.get("downloads")
    options = dict(plugin.config) if plugin is not None else {}
    return options, config.site_url, Path(path).resolve().parent


def settings_for(args: argparse.Namespace, *flag_names: str) -> Any:
    """Settings from the config file, CI variables and the given flags (see settings.py)."""
    from .settings import resolve

    options, site_url, base_dir = plugin_options(args.config)
    return resolve(options, flags=flags_of(args, *flag_names),
                   config_site_url=site_url, base_dir=base_dir)


# -- build and serve -------------------------------------------------------------------------

BUILD_FLAGS = ("api_url", "project", "package", "site_url", "cache_dir", "from_dir",
               "public_key")


def add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site-url", metavar="URL",
                        help="public URL of the site (default: $CI_PAGES_URL, else site_url)")
    parser.add_argument("--cache-dir", metavar="DIR", help="download cache folder")
    parser.add_argument("--from-dir", metavar="DIR",
                        help="read DIR/<package>/<version>/<file> instead of GitLab")
    parser.add_argument("--public-key", metavar="KEY",
                        help="minisign public key (its base64 line, or minisign.pub): every "
                             "version's signature must verify (default: $MINISIGN_PUBLIC_KEY)")


def _mkdocs_config(args: argparse.Namespace, **overrides: Any) -> Any:
    config = load_mkdocs_config(args.config, **overrides)
    plugin = config.plugins.get("downloads")
    if plugin is None:
        raise ConfigError(
            f"{args.config} does not enable the `downloads` plugin: "
            "add it under `plugins:` (with `search`)"
        )
    # MkDocs keeps one plugin instance per process (reused by every `serve` rebuild);
    # the flags live on it until on_shutdown.
    plugin.flags = flags_of(args, *BUILD_FLAGS)
    return config


# A build starts from the last build's listing while GitLab is listed again; if GitLab's
# differs, it builds again from the listing GitLab just gave, without asking again.
BUILD_ATTEMPTS = 2


def run_build(args: argparse.Namespace) -> int:
    from mkdocs.commands.build import build

    output = args.output or _configured_site_dir(args.config) or "public"
    known = None  # GitLab's listing as the attempt that guessed wrong read it
    for attempt in range(1, BUILD_ATTEMPTS + 1):
        config = _mkdocs_config(args, site_dir=str(Path(output).absolute()))
        plugin = config.plugins["downloads"]
        plugin.speculate, plugin.known_listing = attempt < BUILD_ATTEMPTS, known
        config.plugins.on_startup(command="build", dirty=False)
        try:
            build(config)
        except Exception:
            known = plugin.retry_listing
            if known is None or attempt == BUILD_ATTEMPTS:
                raise
            log.info("the registry changed since the last build: building again from "
                     "GitLab's new listing")
            _forget_held_errors()
            continue
        finally:
            config.plugins.on_shutdown()
        log.info("site written to %s", config.site_dir)
        return 0
    raise AssertionError("unreachable: the last attempt returns or raises")


def _forget_held_errors() -> None:
    """An attempt that is built again leaves no error to report."""
    for handler in logging.getLogger("mkdocs").handlers:
        for held in handler.filters:
            if isinstance(held, HeldErrors):
                held.messages.clear()


def _configured_site_dir(path: str) -> str | None:
    """`site_dir` if mkdocs.yml sets it (relative to the file), else None: we default to public."""
    from mkdocs.utils import yaml_load

    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml_load(handle) or {}
    except Exception:  # a missing or broken file is reported by the real load, with context
        return None
    site_dir = raw.get("site_dir") if isinstance(raw, dict) else None
    return str(Path(path).parent / site_dir) if site_dir else None


def run_serve(args: argparse.Namespace) -> int:
    """Build into a temporary folder, serve it as GitLab Pages would, rebuild on change."""
    from .preview import serve_and_rebuild

    config = _mkdocs_config(args)  # fail early, with our message, on a bad config
    settings = settings_for(args, *BUILD_FLAGS)
    watch = [Path(args.config).resolve(), Path(config.docs_dir)]
    if config.theme.custom_dir:
        watch.append(Path(config.theme.custom_dir))
    if settings.from_dir is not None:
        watch.append(settings.from_dir)

    def build(output: Path, site_url: str) -> None:
        run_build(argparse.Namespace(**{**vars(args), "output": str(output),
                                        "site_url": site_url}))

    host, _, port = args.dev_addr.rpartition(":")
    serve_and_rebuild(build, watch=watch, host=host, port=int(port))
    return 0


def host_port(value: str) -> str:
    """`--dev-addr`'s value checked as argparse does a type: `127.0.0.1:8000`."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT, e.g. 127.0.0.1:8000")
    return value


# -- wiring ----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="site-builder",
        description="Turn a GitLab generic package registry into a public download site.",
        epilog="Run `site-builder COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"site-builder {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=CommandParser)

    build = commands.add_parser(
        "build", help="read the registry and write the site",
        description="Read the package registry (or --from-dir), download and verify every "
                    "artifact against its SHA256, render the pages and machine files, and "
                    "replace the output folder only when all of it succeeded.",
    )
    add_common(build)
    add_build_options(build)
    build.add_argument("--output", metavar="DIR",
                       help="output folder (default: site_dir of the config, else public)")
    build.set_defaults(run=run_build)

    serve = commands.add_parser(
        "serve", help="build and preview locally, rebuilding on change",
        description="Build the site like `build` (nothing is written to the output folder) "
                    "and serve it on this machine as GitLab Pages would (`_redirects` "
                    "included), rebuilding when content/, theme/, the config or the "
                    "--from-dir folder change.",
    )
    add_common(serve)
    add_build_options(serve)
    serve.add_argument("--dev-addr", default="127.0.0.1:8000", metavar="HOST:PORT", type=host_port,
                       help="where to serve (default: 127.0.0.1:8000, this machine only; "
                            "port 0: any free one)")
    serve.set_defaults(run=run_serve)

    for module in _command_modules():
        module.add_parser(commands)
    takers: dict[str, list[str]] = {}
    for name, command in commands.choices.items():
        for action in command._actions:
            for flag in action.option_strings:
                takers.setdefault(flag, []).append(name)
    for command in commands.choices.values():
        if isinstance(command, CommandParser):
            command.elsewhere = takers
    return parser


def _command_modules() -> list[Any]:
    """Commands that live in their own modules, each with `add_parser(subparsers)`."""
    import importlib

    names = ("publish", "release", "notify", "verify", "keygen")
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(f"site_builder.commands.{name}"))
        except ModuleNotFoundError as e:
            if e.name != f"site_builder.commands.{name}":
                raise
    return modules


class HeldErrors(logging.Filter):
    """Holds MkDocs' ERROR records back, so a failure is reported once, as one line."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            self.messages.append(record.getMessage())
            return False
        return True


def setup_logging(args: argparse.Namespace) -> HeldErrors:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    held = HeldErrors()
    handler.addFilter(held)
    root = logging.getLogger("mkdocs")
    root.handlers[:] = [handler]
    root.propagate = False
    verbose, quiet = getattr(args, "verbose", False), getattr(args, "quiet", False)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    log.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).addFilter(RedactingFilter())
    return held


def root_cause(error: BaseException, held: list[str]) -> str:
    """The message worth printing: our own error if MkDocs wrapped one, else its first error."""
    from mkdocs.exceptions import PluginError

    seen: BaseException | None = error
    plugin_error = None
    while seen is not None:
        if isinstance(seen, SiteBuilderError):
            return str(seen)
        if isinstance(seen, PluginError) and plugin_error is None:
            plugin_error = str(seen)
        seen = seen.__cause__ or seen.__context__
    return plugin_error or (held[0] if held else str(error))


_MKDOCS_CONFIG_ERROR = re.compile(
    r"^Config value '(?P<key>[^']+)': (?:Plugin '(?P<plugin>[^']+)' option '[^']+': )?"
)


def plain_config_error(message: str, config: str) -> str:
    """MkDocs' `Config value 'plugins': Plugin 'downloads' option 'kep': …` as `mkdocs.yml: …`."""
    missing = re.search(r'The "([^"]+)" plugin is not installed', message)
    if missing:  # `- download:` for `- downloads:`
        from importlib.metadata import entry_points

        installed = [e.name for e in entry_points(group="mkdocs.plugins")]
        message += ";" + (did_you_mean(missing[1], installed) or
                          " check the name under `plugins:`, or pip install the plugin")
    match = _MKDOCS_CONFIG_ERROR.match(message)
    if match is None:
        return message
    where = f"the {match['plugin']} plugin" if match["plugin"] else f"`{match['key']}`"
    return f"{config}, {where}: {message[match.end():]}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    held = setup_logging(args)
    runner: Runner = args.run
    try:
        with interruptible():
            return runner(args)
    except SiteBuilderError as e:
        return _fail(str(e))
    except KeyboardInterrupt as e:
        signum = e.signum if isinstance(e, Interrupted) else signal.SIGINT
        name = signal.Signals(signum).name
        print(f"site-builder: stopped by {name}: downloads cancelled, temporary files removed, "
              "the output folder left as it was", file=sys.stderr)
        return 128 + signum
    except Exception as e:  # MkDocs reports failures as its own exception types
        from mkdocs.exceptions import MkDocsException

        if isinstance(e, MkDocsException):
            return _fail(plain_config_error(root_cause(e, held.messages),
                                            getattr(args, "config", "mkdocs.yml")))
        # A bug of ours: still one line, still redacted; the traceback only when asked for.
        if getattr(args, "verbose", False):
            import traceback

            print(redact(traceback.format_exc()), file=sys.stderr, end="")
        return _fail(f"unexpected {type(e).__name__}: {e} (a bug: please report it, "
                     "with the output of --verbose)")


def _fail(message: str) -> int:
    message = " ".join(redact(message).split())  # one line, always
    print(f"site-builder: error: {message}", file=sys.stderr)
    return 1
