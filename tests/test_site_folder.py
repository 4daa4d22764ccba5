"""Writing thousands of site files resolves each folder once, and still never leaves the root."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.errors import UnsafePathError
from site_builder.output import SiteFolder, write_files


def test_files_land_in_created_folders(tmp_path: Path) -> None:
    """Nested paths get their folders; the bytes are written where the site expects them."""
    write_files(tmp_path, {"download/v1.0.0/SHA256SUMS": b"sums", "index.json": b"{}",
                           "download/v1.0.0/a.zip.sha256": b"line"})
    assert (tmp_path / "download/v1.0.0/SHA256SUMS").read_bytes() == b"sums"
    assert (tmp_path / "index.json").read_bytes() == b"{}"


def test_a_symlinked_folder_or_file_pointing_out_is_refused(tmp_path: Path) -> None:
    """A folder or file inside the root that is a symlink to elsewhere is never written through."""
    root, outside = tmp_path / "site", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "download").symlink_to(outside, target_is_directory=True)
    (root / "latest.json").symlink_to(outside / "stolen.json")
    site = SiteFolder(root)
    with pytest.raises(UnsafePathError, match="resolves outside"):
        site.path("download/v1.0.0/a.zip")
    with pytest.raises(UnsafePathError, match="resolves outside"):
        site.path("latest.json")
    with pytest.raises(UnsafePathError):
        site.path("../escape.txt")
    assert list(outside.iterdir()) == []
