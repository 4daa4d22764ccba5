"""Every speed and memory target of site_builder, as ratios to baselines measured in the same run.

    python bench/perf.py               # all rows (a few minutes on two cores)
    python bench/perf.py --quick       # without the 1,000 versions x 3 files report
    python bench/perf.py --repeat 3    # best of 3 for the builds too (listing and transfer
                                       # are always best of 3: they are short)

The registry is the test suite's fake GitLab (`tests/fake_gitlab.py`), a real HTTP server on
127.0.0.1, with `latency` set so that every API call takes about 40 ms, as a real instance's
do. Baselines run against the same server in the same run: `curl` (16 in parallel for the
listing, 3 in parallel for the transfer), `curl` then `sha256sum`, and a bare `mkdocs build`
of as many Material pages with the same theme. Absolute times on a shared machine are noise;
the ratios are what the targets are about. Prints one table: value, baseline, ratio, target,
PASS or MISS. The package is compiled to bytecode first, as `pip install` leaves it.
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from fake_gitlab import FakeGitLab  # noqa: E402

from site_builder.budget import PAGES_MAX_FILES as PAGES_MAX_ENTRIES  # noqa: E402
from site_builder.redirects import MAX_BYTES as REDIRECTS_BYTES_MAX  # noqa: E402
from site_builder.redirects import MAX_RULES as REDIRECT_RULES_MAX  # noqa: E402

TOKEN = "glpat-bench-0000"
LATENCY = 0.04
MIB = 1024 * 1024


@dataclass
class Row:
    name: str
    value: float
    unit: str
    baseline: float | None = None  # None: an absolute target (memory) or a report only
    target: float | None = None  # ratio (or absolute value) it must not exceed
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "report"
        measured = self.ratio if self.baseline is not None else self.value
        return "PASS" if measured is not None and measured <= self.target else "MISS"


# -- running things ---------------------------------------------------------------------------

@dataclass
class Ran:
    """One child run: wall seconds, CPU seconds (user + system), peak RSS in MiB, output."""

    seconds: float
    cpu: float
    rss: float
    stdout: str
    stderr: str


def run(command: list[str], *, env: dict[str, str] | None = None) -> Ran:
    """Run a child to completion and measure it.

    The peak is read from /proc while the child runs (VmHWM): `ru_maxrss` would report this
    process's size instead, as a forked child's high-water mark survives its exec. CPU time
    is steady on a loaded machine where wall time is not, so the notes show it too.
    """
    start = time.perf_counter()
    peak_kib = 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, env={**os.environ, **(env or {})},
                                 stdout=out, stderr=err)
        status_file = Path(f"/proc/{child.pid}/status")
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            try:
                found = re.search(r"VmHWM:\s+(\d+)", status_file.read_text())
            except OSError:
                found = None
            if found:
                peak_kib = max(peak_kib, int(found[1]))
            time.sleep(0.005)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} … failed ({child.returncode}):\n{stderr}")
    return Ran(seconds, usage.ru_utime + usage.ru_stime, peak_kib / 1024, stdout, stderr)


def interleaved(times: int, *measures: Callable[[], Ran]) -> list[Ran]:
    """Each measure `times` times, taking turns so load from others hits them alike; for each,
    the fastest run (the least disturbed) with the highest peak RSS seen."""
    runs: list[list[Ran]] = [[] for _ in measures]
    for _ in range(times):
        for i, measure in enumerate(measures):
            runs[i].append(measure())
    return [dataclasses.replace(min(r, key=lambda x: x.seconds), rss=max(x.rss for x in r))
            for r in runs]


def version_name(i: int) -> str:
    return f"v{i // 100}.{(i // 10) % 10}.{i % 10}"


@contextmanager
def registry(versions: int, files: int, size: int) -> Iterator[FakeGitLab]:
    """The fake GitLab with `versions` x `files` files of `size` random bytes, 40 ms a call."""
    with FakeGitLab() as gitlab:
        gitlab.add_token(TOKEN, role="reporter")
        platforms = ("windows-x64", "macos-arm64", "linux-x64")
        for i in range(versions):
            v = version_name(i)
            gitlab.add_package("App", v, {f"App-{v}-{platforms[k % 3]}-{k}.zip": os.urandom(size)
                                          for k in range(files)})
        gitlab.latency = LATENCY
        yield gitlab


PYTHON = [sys.executable]
ENV = {"GITLAB_TOKEN": TOKEN, "PYTHONPATH": str(REPO)}


# -- listing ----------------------------------------------------------------------------------

def listing(repeat: int) -> list[Row]:
    with registry(400, 1, 64) as gitlab, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp, "curl.cfg")
        lines = [f'header = "PRIVATE-TOKEN: {TOKEN}"']
        for package in gitlab.packages:
            lines += [f'url = "{gitlab.api_url}/projects/42/packages/{package.id}/package_files'
                      '?per_page=100"', 'output = "/dev/null"']
        config.write_text("\n".join(lines) + "\n")
        curl = ["curl", "-sS", "--fail", "-Z", "--parallel-max", "16", "-K", str(config)]
        ours, base = interleaved(
            repeat, lambda: phase([*CHILD, "list", gitlab.api_url, "App"]), lambda: run(curl))
    return [Row("listing 400 versions (API calls 40 ms)", ours.seconds, "s", base.seconds, 2.0,
                "vs 16 parallel curls of the 400 package_files calls; ours: the whole "
                "listing, packages pages and releases included")]


CHILD = [*PYTHON, str(REPO / "bench" / "_child.py")]


def phase(command: list[str]) -> Ran:
    """A `_child.py` run, timed by the phase it prints rather than by the whole process."""
    ran = run(command, env=ENV)
    return dataclasses.replace(ran, seconds=float(ran.stdout.split()[-1]))


# -- transfer ---------------------------------------------------------------------------------

def transfer(repeat: int, size: int) -> list[Row]:
    with registry(1, 3, size) as gitlab, tempfile.TemporaryDirectory() as tmp:
        urls = [f"{gitlab.api_url}/projects/42/packages/generic/App/v0.0.0/{f.file_name}"
                for f in gitlab.packages[0].files]
        folder = Path(tmp)
        copies = [str(folder / f"f{i}") for i in range(len(urls))]
        curl = ["curl", "-sS", "--fail", "-Z", "--parallel-max", "3",
                "-H", f"PRIVATE-TOKEN: {TOKEN}"]
        for copy, url in zip(copies, urls, strict=True):
            curl += ["-o", copy, url]
        sums: list[Ran] = []

        def ours() -> Ran:
            shutil.rmtree(folder / "cache", ignore_errors=True)
            return phase([*CHILD, "fetch", gitlab.api_url, "App", str(folder / "cache")])

        def curls() -> Ran:
            shutil.rmtree(folder / "cache", ignore_errors=True)
            ran = run(curl)
            sums.append(run(["sha256sum", *copies]))
            for copy in copies:
                os.unlink(copy)
            return dataclasses.replace(ran, rss=sums[-1].seconds)  # keep the pair together

        mine, base = interleaved(repeat, ours, curls)
    verified = base.seconds + base.rss  # that run's curl, then its sha256sum
    total = f"3 x {size // MIB} MiB"
    cpu = (f"CPU s: ours {mine.cpu:.2f} (whole process), curl {base.cpu:.2f}, "
           f"sha256sum {min(s.cpu for s in sums):.2f}")
    return [
        Row(f"transfer {total}", mine.seconds, "s", base.seconds, 1.5,
            f"vs 3 parallel curls; moonshot 1.2; {cpu}"),
        Row(f"transfer {total}, verified", mine.seconds, "s", verified, 0.5,
            "vs those curls, then sha256sum of the 3 files"),
        Row(f"transfer {total}: peak RSS", mine.rss, "MiB", None, 150.0,
            "the whole builder process"),
    ]


# -- builds -----------------------------------------------------------------------------------

def make_project(root: Path, *, plugin: bool) -> Path:
    project = root / ("project" if plugin else "bare")
    project.mkdir()
    shutil.copytree(REPO / "content", project / "content")
    shutil.copytree(REPO / "theme", project / "theme")
    config = (REPO / "mkdocs.yml").read_text()
    if plugin:
        config = config.replace("package: VoiceInput", "package: App")
    else:  # the same site without the downloads plugin; its pages are written by hand below
        config = re.sub(r"\n  - downloads:\n(      .*\n)*", "\n", config + "\n")
        config += 'not_in_nav: |\n  /releases/v*\n'
    (project / "mkdocs.yml").write_text(config)
    return project


def bare_pages(project: Path, versions: int, files: int) -> None:
    """As many Markdown pages as the builder generates, each like a version page."""
    docs = project / "content"
    links = []
    for i in range(versions):
        v = version_name(i)
        rows = "".join(f"| App-{v}-{k}.zip | 2.0 KiB | `{os.urandom(32).hex()}` |\n"
                       for k in range(files))
        page = docs / "releases" / v / "index.md"
        page.parent.mkdir(parents=True)
        page.write_text(f"# App {v}\n\nReleased on 1 January 2026.\n\n"
                        f"| File | Size | SHA256 |\n|---|---|---|\n{rows}\n"
                        f"Check it with `sha256sum -c SHA256SUMS`.\n")
        links.append(f"- [{v}]({v}/index.md)")
    (docs / "releases" / "index.md").write_text("# All releases\n\n" + "\n".join(links) + "\n")
    (docs / "index.md").write_text("# Download\n\n[All releases](releases/index.md)\n")


TIMES = re.compile(r"build times: .*")


def builds(repeat: int, versions: int, files: int, *, targets: bool) -> list[Row]:
    label = f"build {versions} versions x {files} file{'s' if files > 1 else ''}"
    with registry(versions, files, 2048) as gitlab, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project, bare = make_project(root, plugin=True), make_project(root, plugin=False)
        bare_pages(bare, versions, files)
        command = [*PYTHON, "-m", "site_builder", "build", "--config",
                   str(project / "mkdocs.yml"), "--api-url", gitlab.api_url, "--project", "42",
                   "--package", "App", "--cache-dir", str(root / "cache"),
                   "--output", str(root / "public")]
        mkdocs = [*PYTHON, "-m", "mkdocs", "build", "-q", "-f", str(bare / "mkdocs.yml"),
                  "-d", str(root / "bare-site")]
        logs: dict[str, str] = {}

        def cold() -> Ran:
            shutil.rmtree(root / "cache", ignore_errors=True)
            ran = run(command, env=ENV)
            logs["cold"] = ran.stderr
            return ran

        def warm() -> Ran:
            ran = run(command, env=ENV)
            logs["warm"] = ran.stderr
            return ran

        def fresh() -> Ran:  # a CI job: the cache restored, no earlier output to link from
            shutil.rmtree(root / "ci-public", ignore_errors=True)
            ran = run([*command[:-1], str(root / "ci-public")], env=ENV)
            logs["CI job"] = ran.stderr
            return ran

        added = iter(range(1, 1000))

        def changed() -> Ran:  # a release pipeline: one version more than the last build saw
            v = f"v99.0.{next(added)}"
            gitlab.add_package("App", v, {f"App-{v}-linux-x64-{k}.zip": os.urandom(2048)
                                          for k in range(files)})
            ran = run(command, env=ENV)
            logs["changed"] = ran.stderr
            return ran

        first, again, later, ci, base = interleaved(repeat, cold, warm, changed, fresh,
                                                    lambda: run(mkdocs))
        pages = sum(1 for _ in (root / "public").rglob("index.html"))
        bare_count = sum(1 for _ in (root / "bare-site").rglob("index.html"))
    rows = [
        Row(f"{label}, cold cache", first.seconds, "s", base.seconds, 1.5 if targets else None,
            f"vs bare mkdocs build of {bare_count} pages (ours {pages}); "
            f"peak RSS {first.rss:.0f} MiB (bare mkdocs {base.rss:.0f} MiB)"),
        Row(f"{label}, warm cache", again.seconds, "s", base.seconds, 1.3 if targets else None,
            f"peak RSS {again.rss:.0f} MiB; CPU s: cold {first.cpu:.1f}, warm {again.cpu:.1f}, "
            f"bare {base.cpu:.1f}"),
        Row(f"{label}, warm, 1 version added", later.seconds, "s", base.seconds, None,
            "a release pipeline: the saved listing is out of date, so the build starts again "
            "from GitLab's"),
        Row(f"{label}, warm cache, no earlier output", ci.seconds, "s", base.seconds, None,
            "a CI job: the cache restored, the output folder new (the others link unchanged "
            "files from the output they replace)"),
    ]
    for kind in ("cold", "warm", "changed", "CI job"):
        found = TIMES.search(logs[kind])
        rows.append(Row(f"  {kind}: {found[0] if found else 'no build times logged'}", 0, ""))
    reused = re.search(r"\((\d+) of (\d+) compressed copies reused\)", logs["warm"])
    if reused:  # nothing changed between the two builds, so nothing is compressed again
        redone = 100 * (1 - int(reused[1]) / max(int(reused[2]), 1))
        rows.append(Row(f"{label}, warm: copies compressed again", redone, "%", None, 0.0,
                        f"{reused[1]} of {reused[2]} reused from the cache"))
    return rows


# -- GitLab Pages limits ----------------------------------------------------------------------

def pages_limits() -> list[Row]:
    """10,000 files, and more latest/download aliases than `_redirects` may hold."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "registry" / "App"
        for i in range(20):
            v = version_name(i)
            (folder / v).mkdir(parents=True)
            for k in range(500):
                (folder / v / f"App-{v}-part{k:03}.bin").write_bytes(b"%d %d\n" % (i, k))
            (folder / v / ".release.json").write_text(
                json.dumps({"released_at": f"2026-01-01T00:{i:02d}:00Z"}))
        project = make_project(root, plugin=True)
        command = [*PYTHON, "-m", "site_builder", "build", "-q", "--config",
                   str(project / "mkdocs.yml"), "--from-dir", str(root / "registry"),
                   "--package", "App", "--cache-dir", str(root / "cache"),
                   "--output", str(root / "public")]
        child = subprocess.run(command, env={**os.environ, **ENV}, capture_output=True,
                               text=True, check=False)
        if child.returncode != 0:
            named = "limit" in child.stderr or "Pages" in child.stderr
            return [Row("10,000 files: refused, naming the limit", 0 if named else 1, "",
                        None, 0, child.stderr.strip().splitlines()[-1][:80])]
        site = root / "public"
        entries = sum(1 for _ in site.rglob("*"))
        redirects = (site / "_redirects").read_bytes()
        rules = redirects.count(b"\n")
    return [
        Row("10,000 files: site entries", entries, "", None, PAGES_MAX_ENTRIES,
            "GitLab Pages allows 200,000"),
        Row("1,000+ aliases: _redirects rules", rules, "", None, REDIRECT_RULES_MAX,
            "Pages reads the first 1,000"),
        Row("1,000+ aliases: _redirects bytes", len(redirects), "", None, REDIRECTS_BYTES_MAX,
            "Pages ignores a file over 64 KiB"),
    ]


# -- the table --------------------------------------------------------------------------------

def print_table(rows: list[Row]) -> None:
    print(f"{'measure':<52} {'value':>9} {'baseline':>9} {'ratio':>6} {'target':>8}  verdict")
    for r in rows:
        if not r.unit and r.value == 0 and r.target is None:  # a log line under its build
            print(r.name)
            continue
        value = f"{r.value:.2f} {r.unit}".strip() if r.unit else f"{r.value:,.0f}"
        baseline = f"{r.baseline:.2f} {r.unit}" if r.baseline is not None else ""
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
        if r.target is None:
            target = ""
        elif r.baseline is not None:
            target = f"≤ {r.target:g}x"
        else:
            target = f"≤ {r.target:,g}"
        print(f"{r.name:<52} {value:>9} {baseline:>9} {ratio:>6} {target:>8}  {r.verdict}"
              + (f"  ({r.note})" if r.note else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1,000 x 3 report")
    parser.add_argument("--repeat", type=int, default=1, help="runs per build (best counts)")
    parser.add_argument("--transfer-mib", type=int, default=128, help="size of each file")
    parser.add_argument("--only", choices=("listing", "transfer", "build", "scale", "limits"))
    args = parser.parse_args()
    parts: dict[str, Callable[[], list[Row]]] = {
        "listing": lambda: listing(3),
        "transfer": lambda: transfer(3, args.transfer_mib * MIB),
        "build": lambda: builds(args.repeat, 400, 1, targets=True),
        "scale": lambda: builds(args.repeat, 1000, 3, targets=False),
        "limits": pages_limits,
    }
    if args.quick:
        del parts["scale"]
    if args.only:
        parts = {args.only: parts[args.only]}
    # As installed: pip compiles a package's modules to bytecode once. This checkout is an
    # editable install, and with PYTHONDONTWRITEBYTECODE (set on this project's machines) every
    # run would compile ours from source again (~0.1 s a build, the listing child's too),
    # while MkDocs' come compiled.
    compileall.compile_dir(REPO / "site_builder", quiet=1)
    load = os.getloadavg()[0]
    print(f"site_builder bench, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
          f"load average {load:.1f}; API double answers every call after {LATENCY * 1000:.0f} ms")
    rows: list[Row] = []
    for name, part in parts.items():
        print(f"… {name}", file=sys.stderr, flush=True)
        rows += part()
    print_table(rows)
    misses = [r for r in rows if r.verdict == "MISS"]
    print(f"{len(misses)} target(s) missed" if misses else "every target met")


if __name__ == "__main__":
    main()
