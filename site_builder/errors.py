"""The exceptions site_builder raises, all rooted in one class.

    SiteBuilderError            anything the CLI reports as one line and exit status 1
    ├── ConfigError             the configuration or the command line asks for something impossible
    ├── UnsafePathError         a registry file name would land outside its folder
    ├── SourceError             the registry (or a local folder) could not be read
    │   ├── RegistryValueError  it answered a value that cannot be right (type, format, rule)
    │   └── AuthError           the token is missing, wrong, or lacks a permission
    ├── IntegrityError          downloaded bytes do not match the registry's size or SHA256
    ├── SignatureError          a key cannot be read, or a signature does not verify
    ├── BudgetError             the site would exceed the GitLab Pages size budget
    ├── PublishError            an upload, release or notification failed
    └── StorageError            the artifact bucket cannot be reached, read or written, or
                                already holds different bytes under a published name

Every message says what is wrong and what to do about it. None ever contains a token.

`Interrupted` (SIGINT/SIGTERM) is no error: like KeyboardInterrupt, which it extends, it is
caught by no `except Exception`, and the CLI exits 130 or 143 on it.
"""

from __future__ import annotations

import signal


class SiteBuilderError(Exception):
    """Root of every error the tool reports to a user."""


class ConfigError(SiteBuilderError):
    """Raised when options or `mkdocs.yml` are missing, malformed or contradict each other."""


class UnsafePathError(SiteBuilderError):
    """Raised when a file name from a source could escape its version's folder."""


class SourceError(SiteBuilderError):
    """Raised when the registry or the local folder cannot be listed or read."""


class RegistryValueError(SourceError):
    """Raised at the source boundary when a listed value has the wrong type, format or form."""


class AuthError(SourceError):
    """Raised on 401/403/404-for-access: the message names the token or role to check."""


class IntegrityError(SiteBuilderError):
    """Raised when an artifact's bytes do not hash or measure to what the registry says."""


class SignatureError(SiteBuilderError):
    """Raised by `signing`: a key is missing, unreadable or locked, or a signature is bad."""


class BudgetError(SiteBuilderError):
    """Raised before writing when the site would exceed `max_site_size`."""


class PublishError(SiteBuilderError):
    """Raised when `publish`, `release` or `notify` cannot finish its work."""


class StorageError(SiteBuilderError):
    """Raised when object storage refuses, is missing, does not answer, or holds other bytes."""


class TransientError(SourceError):
    """Raised for a read that may succeed when repeated: a body cut short, a reset connection."""


class Interrupted(KeyboardInterrupt):
    """Raised when SIGINT or SIGTERM stops the work: in the main thread by the CLI's handler,
    in every worker by the next request, chunk or pause (`bounds.cancel_all`)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum
