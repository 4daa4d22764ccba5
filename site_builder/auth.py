"""Credentials from the environment, and keeping them out of every line we print.

Tokens are read from the environment only, never from flags or files (SPEC "Secrets"):

    GITLAB_TOKEN         → PRIVATE-TOKEN header   (personal or project access token)
    CI_JOB_TOKEN         → JOB-TOKEN header       (inside GitLab CI)
    GITLAB_DEPLOY_TOKEN  → DEPLOY-TOKEN header    (read-only distribution)

The first one set wins. `redact` replaces any secret value in a text with `[MASKED]`, whole or
in part (any run of 8 characters of it);
the CLI passes every log record and error message through it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

TOKEN_VARIABLES = (
    ("GITLAB_TOKEN", "PRIVATE-TOKEN"),
    ("CI_JOB_TOKEN", "JOB-TOKEN"),
    ("GITLAB_DEPLOY_TOKEN", "DEPLOY-TOKEN"),
)
SECRET_VARIABLES = (
    *tuple(name for name, _ in TOKEN_VARIABLES),
    "STRAPI_TOKEN",
    "MINISIGN_SECRET_KEY",
    "MINISIGN_PASSWORD",
    # object storage (boto3 reads them itself; we only keep them out of every line we print)
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ACCESS_KEY_ID",
)
AUTH_HEADERS = frozenset(h.lower() for _, h in TOKEN_VARIABLES) | {"authorization"}
MASK = "[MASKED]"


@dataclass(frozen=True, slots=True)
class Credential:
    """A token and the header GitLab expects it in; its repr never shows the value."""

    variable: str
    header: str
    value: str = field(repr=False)

    @property
    def is_deploy_token(self) -> bool:
        return self.header == "DEPLOY-TOKEN"


def credential_from_env(env: Mapping[str, str] | None = None) -> Credential | None:
    env = os.environ if env is None else env
    for variable, header in TOKEN_VARIABLES:
        value = env.get(variable, "").strip()
        if value:
            return Credential(variable=variable, header=header, value=value)
    return None


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    values = {env.get(name, "").strip() for name in SECRET_VARIABLES}
    # A multi-line secret (a key file's text) is masked line by line too.
    values |= {line.strip() for value in list(values) for line in value.splitlines()}
    # Longest first, so a secret that contains another is masked whole.
    return sorted((v for v in values if len(v) >= 4), key=len, reverse=True)


PART = 8  # a run of this many characters of a secret is masked, wherever it stands


def mask_secret(text: str, secret: str) -> str:
    """`text` with `secret` masked, whole or in part: any run of `PART` or more characters
    that occurs in the secret (a server may echo a token cut short, or from its middle)."""
    if len(secret) < PART:
        return text.replace(secret, MASK) if secret else text
    if secret in text:
        text = text.replace(secret, MASK)
    grams = {secret[i:i + PART] for i in range(len(secret) - PART + 1)}
    out, i = [], 0
    while i <= len(text) - PART:
        if text[i:i + PART] in grams:
            end = i + PART
            while end < len(text) and text[i:end + 1] in secret:
                end += 1
            out.append(MASK)
            text, i = text[end:], 0
            continue
        out.append(text[i])
        i += 1
    return "".join(out) + text[i:]


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    for value in secret_values(env):
        text = mask_secret(text, value)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's final message, whatever arguments built it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
