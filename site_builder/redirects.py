"""GitLab Pages' `_redirects`, read and answered the way its server answers it.

    rules = parse_redirects(Path("public/_redirects").read_bytes())
    hit = rules.resolve("/speech-to-text/latest/download/VoiceInput-latest.zip")
    hit.status, hit.location    # 302, "/speech-to-text/download/v1.2.0/VoiceInput-v1.2.0.zip"

A faithful model of gitlab-pages' `internal/redirects` (Netlify syntax through
`tj/go-redirects`, validation, then matching) so tests, `verify` and `serve` see what a
visitor of the real site would see. What it reproduces, because each one bites:

- Lines are `from to [status] [params...]`, split on whitespace; `#` starts a comment line.
  A status that is not a number makes the whole file unreadable; a line with only one field
  makes the parser return no rules at all (go-redirects wraps a nil error). Default 301.
- A file over 64 KiB is ignored entirely; only the first 1,000 rules are ever looked at.
- A rule is skipped (not an error for the others) when a URL does not parse, does not start
  with `/`, has more than 25 `/`, names another host (allowed only for 301/302 to or from
  `http(s)://`, GitLab 17.4+), carries params, uses `!`, or a status other than 200/301/302.
- The first valid rule that matches wins. The request path is the *decoded* path (Go's
  `URL.Path`), prefix included: a project site's rules start with `/<project>/`.
- A `from` equal to the path (trailing slash ignored) whose `to` holds no `*` or `:name`
  answers with `to` verbatim. Otherwise `from` becomes a case-insensitive regular expression:
  a segment `*` is a greedy splat (matches empty, across `/`), a segment `:name` one non-empty
  segment, repeated slashes are allowed; `to` is templated with Go's `Regexp.Expand`
  (`:name` → the capture, or nothing; `$1`, `$name`, `${name}` expand too; `$$` is `$`).
- A 301/302 answers `Location:` the decoded, cleaned path (no query), as `http.Redirect`
  writes it; a 200 serves that path's file instead, with no second round of rules.
- Files win: the server looks for a file first (see `pages_server.lookup`).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote

MAX_BYTES = 64 * 1024
MAX_RULES = 1000
MAX_SLASHES = 25
STATUSES = (200, 301, 302)
ACME_PREFIX = "/.well-known/acme-challenge/"

_PLACEHOLDER_SEGMENT = re.compile(r"^:[a-z]+$", re.IGNORECASE)
_PLACEHOLDER_IN_TO = re.compile(r":([a-z]+)", re.IGNORECASE)
_TEMPLATED = re.compile(r"\*|:[a-z]+", re.IGNORECASE)
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_NAME = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of `_redirects` as go-redirects reads it."""

    source: str
    target: str
    status: int = 301
    force: bool = False
    params: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True, slots=True)
class Redirect:
    """What a matching rule answers: a redirect (`status` 301/302) or a rewrite (200)."""

    status: int
    location: str
    rule: Rule


@dataclass(frozen=True, slots=True)
class _URL:
    """The parts of Go's `url.Parse` result that the validation looks at."""

    scheme: str
    host: str
    path: str  # decoded


def _parse_url(text: str) -> _URL | None:
    """Go's `url.Parse`, as far as validation needs it; None where Go returns an error."""
    if _CONTROL.search(text):
        return None
    rest = text.partition("#")[0]
    scheme = ""
    if match := _SCHEME.match(rest):
        scheme, rest = match.group(1).lower(), rest[match.end():]
    elif rest.startswith(":"):
        return None  # "missing protocol scheme"
    rest = rest.partition("?")[0]
    host = ""
    if rest.startswith("//") and (scheme or not rest.startswith("///")):
        authority, slash, path = rest[2:].partition("/")
        host, rest = authority.rpartition("@")[2], slash + path
    elif not scheme and ":" in rest.partition("/")[0]:
        return None  # "first path segment in URL cannot contain colon"
    if _BAD_ESCAPE.search(rest):
        return None  # "invalid URL escape"
    return _URL(scheme=scheme, host=host, path=unquote(rest, errors="surrogateescape"))


def _url_problem(text: str, *, status: int, side: str) -> str | None:
    url = _parse_url(text)
    if url is None:
        return f"{side} URL {text!r} does not parse"
    if url.host or url.scheme:
        if url.scheme not in ("http", "https") or not url.host:
            return f"{side} URL {text!r} must be a path or an http(s):// URL"
        if status not in (301, 302):
            return f"{side} URL {text!r} names a host: only 301 and 302 may (GitLab 17.4+)"
    elif url.path.startswith("/\\") or not url.path.startswith("/"):
        return f"{side} URL {text!r} must start with /"
    if url.path.count("/") > MAX_SLASHES:
        return f"{side} URL {text!r} has more than {MAX_SLASHES} slashes"
    return None


def rule_problem(rule: Rule) -> str | None:
    """Why GitLab Pages skips `rule`, or None when it is valid (gitlab-pages' validateRule)."""
    for text, side in ((rule.source, "from"), (rule.target, "to")):
        if problem := _url_problem(text, status=rule.status, side=side):
            return problem
    if rule.params:
        return "params (query or condition matching) are not supported"
    if rule.status not in STATUSES:
        return f"status {rule.status} is not one of 200, 301, 302"
    if rule.force:
        return "force (!) is not supported"
    return None


def _go_atoi(text: str) -> int | None:
    if re.fullmatch(r"[+-]?[0-9]+", text) is None:
        return None
    return int(text)


@dataclass(frozen=True, slots=True)
class RedirectRules:
    """A parsed `_redirects`: its rules, or the reason GitLab Pages ignores the whole file."""

    rules: tuple[Rule, ...] = ()
    error: str | None = None

    def active(self) -> tuple[Rule, ...]:
        """The rules GitLab Pages looks at: the first 1,000."""
        return self.rules[:MAX_RULES]

    def report(self) -> list[str]:
        """What `GET <site>/_redirects` shows: a count and each rule's validity."""
        if self.error:
            return [f"parse error: {self.error}"]
        lines = [f"{len(self.rules)} rules"]
        for n, rule in enumerate(self.active(), start=1):
            problem = rule_problem(rule)
            lines.append(f"rule {n}: error: {problem}" if problem else f"rule {n}: valid")
        if len(self.rules) > MAX_RULES:
            lines.insert(0, f"The _redirects file contains ({len(self.rules)}) rules, more "
                         f"than the maximum of {MAX_RULES} rules. Only the first "
                         f"{MAX_RULES} rules will be processed.")
        return lines

    def resolve(self, path: str, *, host: str | None = None) -> Redirect | None:
        """The first valid rule matching the decoded request `path` (and `host`), templated."""
        if path.startswith(ACME_PREFIX):
            return None
        for rule in self.active():
            if rule_problem(rule) is not None:
                continue
            target = _match(rule, path, host)
            if target is not None:
                return Redirect(status=rule.status, location=_location(target, rule), rule=rule)
        return None


def parse_redirects(content: bytes | str, *, max_bytes: int | None = MAX_BYTES) -> RedirectRules:
    """Read `_redirects` bytes as GitLab Pages does (size cap, go-redirects syntax).

    `max_bytes=None` reads past the cap, to tell how many rules a too-large file holds.
    """
    data = content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content
    if max_bytes is not None and len(data) > max_bytes:
        return RedirectRules(error="_redirects file too large")
    rules: list[Rule] = []
    text = data.decode("utf-8", errors="replace")
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) < 2:  # go-redirects returns (nil, nil): no rules, and no error either
            return RedirectRules(error=f"line {number} has no destination, so GitLab Pages "
                                 "reads no rule of this file")
        status, force = 301, False
        if len(fields) > 2:
            code = fields[2]
            force = code.endswith("!")
            number_text = code.replace("!", "")
            parsed = _go_atoi(number_text)
            if parsed is None:
                return RedirectRules(error="failed to parse _redirects file")
            status = parsed
        rules.append(Rule(source=fields[0], target=fields[1], status=status, force=force,
                          params=tuple(fields[3:]), line=number))
    return RedirectRules(rules=tuple(rules))


def _normalized(path: str) -> str:
    return path.removesuffix("/") + "/"


def _split_host(source: str) -> tuple[str | None, str]:
    url = _parse_url(source)
    if url is not None and url.host:
        after_scheme = source.split("//", 1)[1]
        return url.host.lower(), "/" + after_scheme.partition("/")[2]
    return None, source


def _match(rule: Rule, path: str, host: str | None) -> str | None:
    """gitlab-pages' matchesRule: the templated `to` when `rule` matches `path`, else None."""
    rule_host, source = _split_host(rule.source)
    if rule_host is not None and (host is None or rule_host != host.lower()):
        return None
    if _normalized(source) == _normalized(path) and not _TEMPLATED.search(rule.target):
        return rule.target
    pattern, names = [], []
    for segment in source.split("/"):
        if not segment:
            continue
        if segment == "*":
            pattern.append(r"/*(.*)/*")
            names.append("splat")
        elif _PLACEHOLDER_SEGMENT.match(segment):
            pattern.append(r"/+([^/]+)")
            names.append(segment[1:])
        else:
            pattern.append("/+" + re.escape(segment))
    found = re.match(r"\A" + "".join(pattern) + r"/*\Z", path, re.IGNORECASE)
    if found is None:
        return None
    template = _PLACEHOLDER_IN_TO.sub(lambda m: "${" + m.group(1) + "}", rule.target)
    expanded = _go_expand(template, found, names)
    origin = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://[^/]*", expanded)
    head = origin.group(0) if origin else ""
    return head + re.sub("//+", "/", expanded[len(head):])


def _go_expand(template: str, found: re.Match[str], names: list[str]) -> str:
    """Go's `Regexp.ExpandString`: `$n`, `$name`, `${name}`; unknown → empty; `$$` → `$`."""
    out: list[str] = []
    rest = template
    while True:
        before, dollar, rest = rest.partition("$")
        out.append(before)
        if not dollar:
            return "".join(out)
        if rest.startswith("$"):
            out.append("$")
            rest = rest[1:]
            continue
        braced = rest.startswith("{")
        name_match = _NAME.match(rest, 1 if braced else 0)
        if name_match is None or (braced and not rest.startswith("}", name_match.end())):
            out.append("$")  # malformed: the `$` stays as text
            continue
        name = name_match.group(0)
        rest = rest[name_match.end() + (1 if braced else 0):]
        if name.isascii() and name.isdigit() and not (name.startswith("0") and len(name) > 1):
            index = int(name)
            if index == 0:
                out.append(found.group(0))
            elif index <= len(names):
                out.append(found.group(index) or "")
        elif name in names:
            out.append(found.group(names.index(name) + 1) or "")


def _location(target: str, rule: Rule) -> str:
    """What `Location:` says: `http.Redirect` of the parsed target's decoded path."""
    url = _parse_url(target)
    if url is None:
        return target
    if url.host:
        return target  # a domain-level redirect keeps its URL
    if rule.status == 200:
        return url.path
    # http.Redirect splits at the first "?" (a decoded %3F too), cleans the path before it.
    before, question, query = url.path.partition("?")
    cleaned = "/" + posixpath.normpath(before).lstrip("/")
    if before.endswith("/") and not cleaned.endswith("/"):
        cleaned += "/"
    location = cleaned + question + query
    return "".join(c if c.isascii() else _percent(c) for c in location)


def _percent(char: str) -> str:
    return "".join(f"%{b:02X}" for b in char.encode("utf-8", "surrogateescape"))
