"""`site-builder keygen`: a minisign key pair for signing releases."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..signing import PASSWORD_VARIABLE, PUBLIC_KEY_NAME, SECRET_KEY_NAME, generate_key_pair

log = logging.getLogger("mkdocs.plugins.downloads")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "keygen", help="make a minisign key pair for signing releases",
        description=f"Write {SECRET_KEY_NAME} (secret, mode 0600, encrypted with "
                    f"${PASSWORD_VARIABLE} unless --no-password) and {PUBLIC_KEY_NAME}, in "
                    "minisign's own format, and print the public key line.",
    )
    parser.add_argument("--output", default=".", metavar="DIR",
                        help="folder for the two key files (default: the current folder)")
    parser.add_argument("--no-password", action="store_true",
                        help="leave the secret key unencrypted (protect the file instead)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print the public key only")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    password = None if args.no_password else _password()
    folder = Path(args.output)
    public = generate_key_pair(folder, password=password)
    print(public.line)
    log.info("secret key: %s (%s; keep it secret: store it as a protected CI/CD variable of type "
             "File named MINISIGN_SECRET_KEY_FILE%s)", folder / SECRET_KEY_NAME,
             "encrypted" if password else "not encrypted",
             f", its password as {PASSWORD_VARIABLE}" if password else "")
    log.info("public key: %s (set `public_key: %s` under the downloads plugin in mkdocs.yml)",
             folder / PUBLIC_KEY_NAME, public.line)
    return 0


def _password() -> str:
    """$MINISIGN_PASSWORD, else asked twice on a terminal; never a flag (it would be logged)."""
    password = os.environ.get(PASSWORD_VARIABLE, "")
    if password:
        return password
    if not sys.stdin.isatty():
        raise ConfigError(
            f"no password for the secret key: set {PASSWORD_VARIABLE}, run in a terminal "
            "to type one, or pass --no-password"
        )
    first = getpass.getpass("Password for the secret key: ")
    if not first:
        raise ConfigError("an empty password: type one, or pass --no-password")
    if getpass.getpass("The same password again: ") != first:
        raise ConfigError("the two passwords differ: run keygen again")
    return first
