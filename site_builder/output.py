"""Writing the site safely: nothing outside the output folder, and all-or-nothing.

A build writes into a staging folder beside the target and swaps it in only when the
whole site is written; a failed build removes the staging folder and leaves an existing
output folder exactly as it was.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import shutil
import stat
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .boundary import check_relative_path
from .errors import ConfigError, UnsafePathError
from .hashing import CHUNK
from .leftovers import dead_leftovers


def join_within(root: Path, relative: str) -> Path:
    """`root/relative`, refusing any path that would resolve outside `root`; creates nothing."""
    check_relative_path(relative, what="output path")
    folder = SiteFolder(root)
    return folder.inside((folder.base / relative).resolve(), relative)


class SiteFolder:
    """`join_within` for the thousands of paths a site writes: each folder resolved once.

    Resolving every path whole costs one `lstat` per path segment per file (a 1,000-version
    site: 60,000 calls). Folders are resolved and checked the first time they are named and
    created then, so later files in them need one `lstat` of their own (is it a symlink?).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = root.resolve()
        self._folders: dict[str, Path] = {"": self.base}

    def path(self, relative: str) -> Path:
        """`root/relative` with its folder created; UnsafePathError if it resolves outside."""
        path = self.folder(relative) / relative.rpartition("/")[2]
        if path.is_symlink():
            self.inside(path.resolve(), relative)
        return path

    def folder(self, relative: str) -> Path:
        """The folder `root/relative` goes in, created (and checked) the first time it is named."""
        check_relative_path(relative, what="output path")
        folder_name = relative.rpartition("/")[0]
        folder = self._folders.get(folder_name)
        if folder is None:
            folder = self.inside((self.base / folder_name).resolve(), relative)
            folder.mkdir(parents=True, exist_ok=True)
            self._folders[folder_name] = folder
        return folder

    def inside(self, path: Path, relative: str) -> Path:
        """`path` (resolved), or UnsafePathError naming `relative` if it left the root."""
        if path != self.base and self.base not in path.parents:
            raise UnsafePathError(
                f"refusing to write {relative!r}: it resolves outside {self.root}")
        return path


def write_files(root: Path | SiteFolder, files: Mapping[str, bytes]) -> None:
    folder = root if isinstance(root, SiteFolder) else SiteFolder(root)
    for relative, content in files.items():
        write_new(folder.path(relative), content)


def write_new(path: Path, content: bytes) -> None:
    """Write a new file at `path`: never through what is there, which may be a hard link
    to the output this build replaces (`PreviousOutput`)."""
    path.unlink(missing_ok=True)
    path.write_bytes(content)


# -- the output a build replaces ---------------------------------------------------------------

# A descriptor's own path: linking it (AT_SYMLINK_FOLLOW) links the very file that was checked.
_FD_PATH = "/proc/self/fd/{}"
_LINKING = sys.platform.startswith("linux") and os.path.isdir("/proc/self/fd")


class PreviousOutput:
    """The output a build replaces: files that did not change are hard-linked from it.

        previous = PreviousOutput(Path("public"))
        if not previous.link_if("index.json", new_path, lambda old: old == content):
            new_path.write_bytes(content)

    Writing a file costs an inode, and a rebuild frees as many as it makes (the old output
    goes after the swap). On ext4 without a journal, allocating one walks past every inode
    freed in the last minutes: on this project's build machines that was a quarter of a warm
    build's CPU time (README, "Performance"). A link costs a folder entry, and once the old
    output is gone after the swap, the new file's only name is its own.

    Nothing is taken on trust. A file is linked only if it is a regular file (not a symbolic
    link) in a real folder of the old output, has no other name (one link: nothing outside
    the site shares it, and no cache entry), and holds exactly the bytes wanted, read through
    the descriptor that is then linked (Linux's `/proc/self/fd`; elsewhere nothing is linked).

    Link only once nothing else will write into the new folder: a file written in place
    through a link would change the old output too, which a failed build keeps.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._folders = SiteFolder(self.root)  # (its checks only: nothing is created here)
        self._resolved: dict[str, Path | None] = {}

    def link_if(self, site_path: str, destination: Path, accept: Callable[[bytes], bool], *,
                limit: int = 16 * 1024 * 1024) -> bool:
        """Link the old file at `site_path` to `destination` if `accept(its bytes)`; files
        over `limit` bytes are not read whole, and are not linked."""
        return self._link(site_path, destination, lambda fd, size: size <= limit and accept(
            _read_all(fd, size)))

    def link_sha256(self, site_path: str, destination: Path, *, sha256: str, size: int) -> bool:
        """Link the old file at `site_path` to `destination` if it has this SHA256 and size."""
        def same(fd: int, found: int) -> bool:
            if found != size:
                return False
            digest = hashlib.sha256()
            while chunk := os.read(fd, CHUNK):
                digest.update(chunk)
            return digest.hexdigest() == sha256.lower()
        return self._link(site_path, destination, same)

    def holds(self, site_path: str, content: bytes) -> bool:
        """Whether the old file at `site_path` holds exactly `content` (a guess at whether its
        compressed copies can be linked: `link_if` checks them when it links them)."""
        return self._link(site_path, None, lambda fd, size: size == len(content)
                          and _read_all(fd, size) == content)

    def _link(self, site_path: str, destination: Path | None,
              same: Callable[[int, int], bool]) -> bool:
        """Whether the old file at `site_path` passes `same(fd, size)`, then links it to
        `destination` (unless None)."""
        if not _LINKING:
            return False
        folder_name, _, name = site_path.rpartition("/")
        folder = self._folder(folder_name)
        if folder is None:
            return False
        try:
            fd = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:  # not there, or a symbolic link
            return False
        try:
            found = os.fstat(fd)
            if (not stat.S_ISREG(found.st_mode) or found.st_nlink != 1
                    or not same(fd, found.st_size)):
                return False
            # linkat(AT_SYMLINK_FOLLOW): Python makes that call, not link(2) (which would try
            # to link /proc's own entry), only when given a folder descriptor; with an absolute
            # path the kernel ignores which
            if destination is not None:
                os.link(_FD_PATH.format(fd), destination, src_dir_fd=fd, follow_symlinks=True)
            return True
        except OSError:  # (a destination already written: the caller writes it again)
            return False
        finally:
            os.close(fd)

    def _folder(self, name: str) -> Path | None:
        """The old output's folder `name`, if it is a real folder inside it; each resolved once."""
        if name not in self._resolved:
            try:
                if name:
                    check_relative_path(name, what="output path")
                folder = self._folders.inside((self._folders.base / name).resolve(), name)
            except (UnsafePathError, OSError):
                folder = None
            self._resolved[name] = folder if folder is not None and folder.is_dir() else None
        return self._resolved[name]


def _read_all(fd: int, size: int) -> bytes:
    parts, left = [], size + 1  # one byte more: a file that grew since fstat is not the same
    while left and (chunk := os.read(fd, min(left, CHUNK))):
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def check_target(target: Path) -> None:
    """Refuse an output that a build would destroy by mistake: a file, or a folder that holds
    something other than a built site (`--output ~/Documents` must not replace it)."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ConfigError(f"the output {target} is not a folder: pass --output DIR (a new, "
                          "empty or earlier output folder)")
    if target.is_dir() and any(target.iterdir()) and not (target / "index.html").is_file():
        raise ConfigError(
            f"the output folder {target} is not empty and holds no built site (no index.html): "
            "a build replaces the whole folder, so pass a new or empty folder, or empty it first"
        )


class StagedOutput:
    """A staging folder that replaces `target` on `commit()` and vanishes on `discard()`.

    On Linux the swap is one `renameat2(RENAME_EXCHANGE)`: at every instant `target` is a
    complete output, the old or the new. Elsewhere (or on a filesystem without it) the swap is
    two renames, with a moment between them when `target` is missing; a run killed in that
    moment leaves the old output as `.<name>.old-<pid>`, which the next build puts back.
    `prepare` also removes the staging folders of killed runs (never those of a live one).
    """

    def __init__(self, target: Path) -> None:
        self.target = Path(target).absolute()
        self.staging = self.target.parent / f".{self.target.name}.staging-{os.getpid()}"
        self._retired = self.target.parent / f".{self.target.name}.old-{os.getpid()}"

    def prepare(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.clean_leftovers()
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir()
        return self.staging

    def clean_leftovers(self) -> None:
        """Undo what killed runs left: put a retired output back if none is there, then
        remove their staging and retired folders."""
        parent, name = self.target.parent, self.target.name
        for path, _ in dead_leftovers(parent, f".{name}.old-"):
            if not os.path.lexists(self.target):
                os.replace(path, self.target)  # killed between the two renames of a swap
            else:
                shutil.rmtree(path, ignore_errors=True)
        for path, _ in dead_leftovers(parent, f".{name}.staging-"):
            shutil.rmtree(path, ignore_errors=True)

    def commit(self) -> None:
        """Swap the staging folder in; the old output is removed only after the swap."""
        if os.path.lexists(self.target) and exchange(self.staging, self.target):
            shutil.rmtree(self.staging, ignore_errors=True)  # now the old output
            return
        shutil.rmtree(self._retired, ignore_errors=True)
        if os.path.lexists(self.target):
            os.replace(self.target, self._retired)
        os.replace(self.staging, self.target)
        shutil.rmtree(self._retired, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def previous(self) -> PreviousOutput | None:
        """The output this build replaces, to link unchanged files from; None if there is
        none (an empty folder is none), or where nothing can be linked (then the site is
        written as it renders)."""
        if (_LINKING and self.target.is_dir() and not self.target.is_symlink()
                and (self.target / "index.html").is_file()):
            return PreviousOutput(self.target)
        return None


# -- atomic exchange (Linux renameat2) ----------------------------------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV}


def _load_renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2  # glibc 2.28+, musl 1.2.4+
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_RENAMEAT2 = _load_renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step; False where the system cannot."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(b))


def world_readable(root: Path) -> None:
    """Files 0644 and folders 0755 under `root`, whatever the umask: a site is public, and a
    file the Pages server cannot read is a 404 (or a download that never starts)."""
    root.chmod(0o755)
    pending = [str(root)]
    while pending:  # (one lstat per entry; a chmod only where the mode is wrong: most are right)
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_symlink():
                    continue
                folder = entry.is_dir(follow_symlinks=False)
                wanted = 0o755 if folder else 0o644
                if stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode) != wanted:
                    os.chmod(entry.path, wanted)
                if folder:
                    pending.append(entry.path)
