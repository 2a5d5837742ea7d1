"""Keep secrets out of stored errors.

An exception message or traceback may quote an API key or a password (a URL with
credentials, a failed auth header). Before an error is stored, every value of a setting
that Django's exception reporter filter treats as sensitive (API, KEY, TOKEN, PASS,
SECRET, SIGNATURE ... anywhere in the name, nested dicts included) is replaced by the
filter's substitute, exactly as Django's error pages hide them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.views.debug import get_default_exception_reporter_filter

from async_actions.conf import aa_settings


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


def sensitive_setting_values() -> list[str]:
    """The secrets to scrub, longest first so a secret containing another goes first."""
    reporter_filter = get_default_exception_reporter_filter()
    substitute = reporter_filter.cleansed_substitute
    safe_settings = reporter_filter.get_safe_settings()
    found: set[str] = set()
    for name, safe in safe_settings.items():
        found.update(_sensitive_values(getattr(settings, name, None), safe, substitute))
    min_length = aa_settings.MIN_SECRET_LENGTH
    return sorted((v for v in found if len(v) >= min_length), key=len, reverse=True)


def cleanse_texts(*texts: str) -> list[str]:
    """`texts` with every sensitive setting value replaced by the filter's substitute."""
    if not any(texts):
        return list(texts)
    substitute = get_default_exception_reporter_filter().cleansed_substitute
    secrets = sensitive_setting_values()
    cleansed = []
    for text in texts:
        for secret in secrets:
            text = text.replace(secret, substitute)
        cleansed.append(text)
    return cleansed


def cleanse_text(text: str) -> str:
    return cleanse_texts(text)[0]
