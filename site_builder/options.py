"""Plugin options checked the way a new user needs: a misspelt name is an error that suggests
the right one, and a wrong type is said in words, not as `<class 'int'>`.

    class DownloadsConfig(StrictConfig):
        keep = c.Optional(c.Type(int))

    `kep: 3`        → there is no option `kep`: did you mean `keep`? …
    `keep: "three"` → `keep` must be a whole number (got 'three')

The check reads the class's declared options, so an option added to a StrictConfig subclass
is known at once; MkDocs' own `c.Type` options get the worded messages too.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.base import ValidationError

# How a Python type reads in a message about a YAML value.
TYPE_WORDS = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "text",
    dict: "a mapping (indented `name: value` lines)",
    list: "a list",
}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` did you mean `keep`?` for the closest of `choices`, or "" when none is close."""
    by_lower = {choice.lower(): choice for choice in choices}  # `releaseVersion` ~ `version`
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" did you mean `{by_lower[close[0]]}`?" if close else ""


def shown(value: object, limit: int = 60) -> str:
    """A value as a message quotes it, in YAML's words (`true`, not True), cut to `limit`."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _types(option: base.BaseConfigOption[Any]) -> tuple[type, ...] | None:
    """The Python types a `c.Type` (or `c.Optional(c.Type)`) option accepts, else None."""
    if isinstance(option, c.Optional):
        option = option.option
    if not isinstance(option, c.Type):
        return None
    accepted = option._type  # MkDocs 1.6 (pinned) keeps the accepted types here
    return accepted if isinstance(accepted, tuple) else (accepted,)


def type_error(key: str, types: tuple[type, ...], value: object) -> str:
    """"`keep` must be a whole number (got 'three')" for a value of the wrong type."""
    words = " or ".join(TYPE_WORDS.get(t, t.__name__) for t in types)
    return f"`{key}` must be {words} (got {shown(value)})"


class StrictConfig(base.Config):
    """A plugin config whose unknown names and wrong types are errors a person can act on."""

    def validate(self) -> tuple[base.ConfigErrors, base.ConfigWarnings]:
        raw = dict(self)  # before validation replaces values with their defaults
        failed, warnings = super().validate()
        known = [key for key, _ in self._schema]
        unknown = sorted(set(raw) - set(known))
        warnings = [(key, warning) for key, warning in warnings if key not in unknown]
        options = dict(self._schema)
        errors: base.ConfigErrors = []
        for key, error in failed:
            types = _types(options[key]) if key in options else None
            if types is not None and raw.get(key) is not None:
                error = ValidationError(type_error(key, types, raw[key]))
            errors.append((key, error))
        for key, option in self._schema:
            types = _types(option)
            value = raw.get(key)
            # YAML's `true` is a Python int too: `keep: true` is a mistake, not 1
            if types and isinstance(value, bool) and bool not in types and int in types:
                errors.append((key, ValidationError(type_error(key, types, value))))
        for key in unknown:
            suggestion = did_you_mean(key, known)
            errors.append((key, ValidationError(
                f"there is no option `{key}`{':' + suggestion if suggestion else ''} "
                f"(the options are {', '.join(sorted(known))})"
            )))
        return errors, warnings
