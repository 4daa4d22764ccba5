"""Secrets are masked whole or in part: no run of 8 characters of a token survives."""

from __future__ import annotations

import random

import pytest

from site_builder.auth import MASK, mask_secret, redact

TOKEN = "glpat-Masking-Sample-0123456789"


def runs_of(text: str, secret: str, n: int = 8) -> list[str]:
    return [secret[i:i + n] for i in range(len(secret) - n + 1) if secret[i:i + n] in text]


@pytest.mark.parametrize("seed", range(20))
def test_any_piece_of_the_token_is_masked(seed: int) -> None:
    """Whole, cut at either end, or from the middle, among other text: nothing of 8+ stays."""
    rng = random.Random(seed)
    start = rng.randrange(0, len(TOKEN) - 8)
    end = rng.randrange(start + 8, len(TOKEN) + 1)
    text = f"{'x' * rng.randrange(0, 40)}{TOKEN[start:end]}!{TOKEN}?{TOKEN[:rng.randrange(8, 20)]}"
    masked = mask_secret(text, TOKEN)
    assert runs_of(masked, TOKEN) == [] and MASK in masked


def test_text_without_the_token_is_untouched_and_short_secrets_mask_whole() -> None:
    """Masking changes nothing else; a secret under 8 characters is masked where it is whole."""
    assert mask_secret("GitLab answered 404 (Project Not Found)", TOKEN) == \
        "GitLab answered 404 (Project Not Found)"
    assert mask_secret("key abc123 here", "abc123") == f"key {MASK} here"


def test_redact_masks_every_secret_variable_in_part(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's filter masks GitLab's and Strapi's tokens, pieces included."""
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("STRAPI_TOKEN", "strapi-Long-Api-Token-abcdefghij")
    text = redact(f"a {TOKEN[:-1]} b {'strapi-Long-Api-Token-abcdefghij'[3:20]} c")
    assert runs_of(text, TOKEN) == []
    assert runs_of(text, "strapi-Long-Api-Token-abcdefghij") == []
