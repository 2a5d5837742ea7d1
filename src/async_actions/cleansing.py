"""Keep secrets out of every stored text (errors, retry errors, cancel reasons).

An exception message or traceback may quote an API key, a password inside a database URL
or a token read from the environment. Before any text is stored it goes through one
`Scrubber`, which replaces with Django's cleansed substitute (``********************``):

- every value of a setting that Django's exception reporter filter treats as sensitive
  (API, KEY, TOKEN, PASS, SECRET, SIGNATURE ... anywhere in the name, nested dicts too),
- every value of an environment variable whose name looks sensitive (KEY, TOKEN, SECRET,
  PASSWORD, PASS, DSN, CREDENTIAL, AUTH, PRIVATE),
- each of those also in its repr/backslash-escaped, JSON and URL-encoded forms,
- the password of any ``scheme://user:PASSWORD@host`` URL,
- whatever matches ``ASYNC_ACTIONS["SCRUB_PATTERNS"]`` (regexes; the whole match goes),
- and finally the project's own ``ASYNC_ACTIONS["SCRUB"]`` (dotted path to a
  ``str -> str`` callable).

The scrubber is built once (one compiled alternation of every literal) and rebuilt only
when a setting changes, so scrubbing a failure costs one regex pass per text.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string
from django.views.debug import get_default_exception_reporter_filter

from async_actions.conf import aa_settings

SENSITIVE_ENV_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|DSN|CREDENTIAL|AUTH|PRIVATE", re.IGNORECASE
)
# scheme://user:PASSWORD@host - the password is the group; user and host stay readable.
URL_PASSWORD = re.compile(r"(?<=[A-Za-z0-9+.\-]://)([^:/?#@\s]*):([^@/\s]+)(?=@)")


def _sensitive_values(raw: Any, safe: Any, substitute: str) -> Iterator[str]:
    """Yield the raw strings that the filter replaced, walking both trees side by side."""
    if isinstance(safe, str) and safe == substitute and raw != substitute:
        if isinstance(raw, str):
            yield raw
        elif isinstance(raw, int | float | bytes):
            yield raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        elif isinstance(raw, dict | list | tuple):
            yield from _all_strings(raw)
    elif isinstance(raw, dict) and isinstance(safe, dict):
        for key, value in raw.items():
            if key in safe:
                yield from _sensitive_values(value, safe[key], substitute)
    elif isinstance(raw, list | tuple) and isinstance(safe, list | tuple):
        for raw_item, safe_item in zip(raw, safe, strict=False):
            yield from _sensitive_values(raw_item, safe_item, substitute)


def _all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _all_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _all_strings(item)


def _long_enough(values: Iterable[str]) -> list[str]:
    min_length = aa_settings.MIN_SECRET_LENGTH
    return sorted({v for v in values if len(v) >= min_length}, key=len, reverse=True)


def sensitive_setting_values() -> list[str]:
    """The secrets found in settings, longest first so a secret containing another goes first."""
    reporter_filter = get_default_exception_reporter_filter()
    substitute = reporter_filter.cleansed_substitute
    found: set[str] = set()
    for name, safe in reporter_filter.get_safe_settings().items():
        found.update(_sensitive_values(getattr(settings, name, None), safe, substitute))
    return _long_enough(found)


# Values of sensitive-looking variables that are flags, not secrets: scrubbing every "true"
# from a traceback would only damage it.
NOT_SECRETS = frozenset({"true", "false", "yes", "no", "on", "off", "none", "null"})


def sensitive_environment_values() -> list[str]:
    """Values of environment variables whose names look like they hold a secret."""
    return _long_enough(
        value
        for name, value in os.environ.items()
        if SENSITIVE_ENV_NAME.search(name)
        and value.lower() not in NOT_SECRETS
        and not value.isdigit()
    )


def encoded_forms(secret: str) -> set[str]:
    """`secret` as it may appear in a traceback: raw, repr-escaped, JSON, URL-encoded."""
    return {
        secret,
        repr(secret)[1:-1],
        secret.encode("unicode_escape").decode("ascii"),
        json.dumps(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
    }


def _load_custom() -> Callable[[str], str] | None:
    path = aa_settings.SCRUB
    if not path:
        return None
    try:
        custom = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"ASYNC_ACTIONS['SCRUB'] = {path!r} cannot be imported ({exc}); it must be the "
            f"dotted path of a function taking and returning a str."
        ) from exc
    if not callable(custom):
        raise ImproperlyConfigured(f"ASYNC_ACTIONS['SCRUB'] = {path!r} is not callable.")
    return custom  # type: ignore[no-any-return]


def _compile_patterns() -> list[re.Pattern[str]]:
    compiled = []
    for pattern in aa_settings.SCRUB_PATTERNS:
        try:
            compiled.append(re.compile(pattern))
        except (re.error, TypeError) as exc:
            raise ImproperlyConfigured(
                f"ASYNC_ACTIONS['SCRUB_PATTERNS'] has an invalid regex {pattern!r}: {exc}."
            ) from exc
    return compiled


class Scrubber:
    """Replaces every known secret in a text; built once per settings change."""

    def __init__(
        self,
        *,
        secrets: Iterable[str],
        patterns: Iterable[re.Pattern[str]] = (),
        custom: Callable[[str], str] | None = None,
        substitute: str = "********************",
    ) -> None:
        forms = {form for secret in secrets for form in encoded_forms(secret)}
        min_length = aa_settings.MIN_SECRET_LENGTH
        literals = sorted((f for f in forms if len(f) >= min_length), key=len, reverse=True)
        # One alternation, longest first: a secret containing another is replaced whole.
        self.literals = re.compile("|".join(map(re.escape, literals))) if literals else None
        self.patterns = list(patterns)
        self.custom = custom
        self.substitute = substitute

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if self.literals is not None:
            text = self.literals.sub(self.substitute, text)
        text = URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{self.substitute}", text)
        for pattern in self.patterns:
            text = pattern.sub(self.substitute, text)
        if self.custom is not None:
            text = self.custom(text)
        return text


_scrubber: Scrubber | None = None


def scrubber() -> Scrubber:
    """This process's scrubber, built on first use after any settings change."""
    global _scrubber
    if _scrubber is None:
        _scrubber = Scrubber(
            secrets=[*sensitive_setting_values(), *sensitive_environment_values()],
            patterns=_compile_patterns(),
            custom=_load_custom(),
            substitute=get_default_exception_reporter_filter().cleansed_substitute,
        )
    return _scrubber


def reset_scrubber(**kwargs: Any) -> None:
    global _scrubber
    _scrubber = None


# Any setting may be a secret: rebuild on every change (tests' override_settings).
setting_changed.connect(reset_scrubber, dispatch_uid="async_actions.cleansing.reset")


def cleanse_texts(*texts: str) -> list[str]:
    """`texts` with every secret replaced by the filter's substitute."""
    if not any(texts):
        return list(texts)
    scrub = scrubber()
    return [scrub(text) for text in texts]


def cleanse_text(text: str) -> str:
    return cleanse_texts(text)[0]
