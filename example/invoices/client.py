"""InvoicesPlusClient: HTTP, parsing and validation - and errors that say whether to retry.

Transient errors (timeouts, connection errors, 5xx, 429) may go away by themselves: the task
retries them. Permanent ones (a rejected key, data we cannot read) will not: it fails at once.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode


class InvoicesPlusError(Exception):
    """Base class of every error talking to InvoicesPlus."""


class InvoicesPlusTransientError(InvoicesPlusError):
    """Worth retrying later."""

    retry_after: float | None = None


class InvoicesPlusUnavailable(InvoicesPlusTransientError):
    """A timeout, a dropped connection or a 5xx."""


class InvoicesPlusRateLimited(InvoicesPlusTransientError):
    """A 429; `retry_after` is the wait the API asked for, in seconds (None if it did not say)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple:
        # Picklable with its retry_after: Celery pickles the exception a retry carries, and
        # falls back to a base class (losing the type in the report) when it cannot.
        return type(self), (str(self), self.retry_after)


class InvoicesPlusPermanentError(InvoicesPlusError):
    """Retrying will not help: fix the configuration or tell InvoicesPlus."""


class InvoicesPlusAuthError(InvoicesPlusPermanentError):
    """401/403: the API key was rejected."""


class InvoicesPlusMalformedResponse(InvoicesPlusPermanentError):
    """An answer we cannot read: not JSON, or records that break the documented format."""


@dataclass(frozen=True)
class InvoiceData:
    external_id: str
    number: str
    customer: str
    amount: Decimal
    currency: str
    issued_on: date
    status: str

    def to_json(self) -> dict[str, str]:
        """Plain strings: what one task may return and the next receive through the broker."""
        return {
            **{name: getattr(self, name) for name in ("external_id", "number", "customer",
                                                      "currency", "status")},
            "amount": str(self.amount),
            "issued_on": self.issued_on.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, str]) -> InvoiceData:
        return cls(**{**data, "amount": Decimal(data["amount"]),
                      "issued_on": date.fromisoformat(data["issued_on"])})


@dataclass(frozen=True)
class InvoicePage:
    invoices: list[InvoiceData]
    next_page: int | None
    pages: int  # how many pages the list has: known from the first answer on


class InvoicesPlusClient:
    def __init__(self, *, base_url: str, api_key: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def list_invoices(self, *, account_id: str, page: int) -> InvoicePage:
        path = f"/v1/accounts/{quote(account_id, safe='')}/invoices?{urlencode({'page': page})}"
        payload = self._get(path)
        try:
            return InvoicePage(
                invoices=[_invoice(item) for item in payload["data"]],
                next_page=_optional_page(payload["next_page"]),
                pages=_page_count(payload["pages"]),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise InvoicesPlusMalformedResponse(
                f"GET {path}: the answer does not match InvoicesPlus' invoice format "
                f"({type(exc).__name__}: {exc})."
            ) from exc

    def _get(self, path: str) -> Any:
        request = urllib.request.Request(
            self.base_url + path, headers={"X-Api-Key": self.api_key, "Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(path, exc) from exc
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise InvoicesPlusUnavailable(
                f"GET {path}: InvoicesPlus did not answer ({type(exc).__name__}: {exc})."
            ) from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise InvoicesPlusMalformedResponse(
                f"GET {path}: the answer is not valid JSON ({exc}; {len(body)} bytes)."
            ) from exc


def _http_error(path: str, exc: urllib.error.HTTPError) -> InvoicesPlusError:
    detail = _error_detail(exc)
    if exc.code == 429:
        return InvoicesPlusRateLimited(
            f"GET {path}: rate limited by InvoicesPlus (HTTP 429).",
            retry_after=_seconds(exc.headers.get("Retry-After")),
        )
    if exc.code >= 500:
        return InvoicesPlusUnavailable(
            f"GET {path}: InvoicesPlus failed (HTTP {exc.code}): {detail}"
        )
    if exc.code in (401, 403):
        return InvoicesPlusAuthError(
            f"GET {path}: InvoicesPlus rejected the API key (HTTP {exc.code}): {detail} "
            f"Check the INVOICES_PLUS_API_KEY setting."
        )
    return InvoicesPlusPermanentError(f"GET {path}: HTTP {exc.code} from InvoicesPlus: {detail}")


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read())["message"])
    except (ValueError, KeyError, TypeError, OSError):
        return exc.reason or "no details"


def _seconds(value: str | None) -> float | None:
    # Retry-After may also be an HTTP date; InvoicesPlus sends seconds. Anything else: unsaid.
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _optional_page(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"next_page must be a page number or null, got {value!r}")
    return value


def _page_count(value: Any) -> int:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"pages must be a number >= 1, got {value!r}")
    return value


def _invoice(item: dict[str, Any]) -> InvoiceData:
    return InvoiceData(
        external_id=_text(item["id"]),
        number=_text(item["number"]),
        customer=_text(item["customer"]),
        amount=Decimal(_text(item["amount"])),
        currency=_text(item["currency"]),
        issued_on=date.fromisoformat(_text(item["issued_on"])),
        status=_text(item["status"]),
    )


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value
