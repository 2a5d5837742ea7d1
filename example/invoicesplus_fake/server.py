"""The HTTP server of the fake InvoicesPlus API.

    GET /v1/accounts/<id>/invoices?page=N   header X-Api-Key: <key>
    GET /_control                             the knobs, as JSON
    POST /_control  {"failure_rate": 0.3}     change knobs (resets counters and the log)

Whether a request fails is decided by a random generator seeded with (seed, path, how many
times this path was asked for before): the same requests in the same order get the same
answers, whatever other accounts are synced at the same time.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from dataclasses import asdict, dataclass, fields, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from example.invoicesplus_fake import data

DEFAULT_API_KEY = "ipk_demo_5b0c9f27e1a84d36"
_INVOICES_PATH = re.compile(r"^/v1/accounts/([\w-]+)/invoices$")


@dataclass(frozen=True)
class Knobs:
    api_key: str = DEFAULT_API_KEY
    seed: int = 1
    page_size: int = 10
    latency: float = 0.0  # seconds added to every answer
    failure_rate: float = 0.0  # share of requests answered 503
    rate_limit_rate: float = 0.0  # share answered 429 with Retry-After
    retry_after: int = 1  # seconds, in the 429's Retry-After header
    malformed_rate: float = 0.0  # share answered with data that does not parse
    # Comma-separated account ids whose access the key has lost: their requests get a 401.
    revoked_accounts: str = ""


@dataclass(frozen=True)
class Logged:
    at: float
    path: str
    status: int


class FakeInvoicesPlus:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, knobs: Knobs | None = None,
                 verbose: bool = False) -> None:
        self.knobs = knobs or Knobs()
        self.verbose = verbose
        self.log: list[Logged] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def configure(self, **changes: Any) -> Knobs:
        """New knobs; the per-path counters and the log start again, so runs are reproducible."""
        with self._lock:
            self.knobs = replace(Knobs(), **changes)
            self._counts.clear()
            self.log.clear()
        return self.knobs

    def start(self) -> FakeInvoicesPlus:
        threading.Thread(target=self.httpd.serve_forever, daemon=True, name="invoicesplus").start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def statuses(self, path_part: str = "") -> list[int]:
        return [entry.status for entry in self.log if path_part in entry.path]

    def answer(self, path: str, query: str, api_key: str | None) -> tuple[int, dict, bytes]:
        """Decide the answer to GET `path`: (status, headers, body)."""
        with self._lock:
            knobs = self.knobs
            nth = self._counts.get(f"{path}?{query}", 0)
            self._counts[f"{path}?{query}"] = nth + 1
        time.sleep(knobs.latency)
        match = _INVOICES_PATH.match(path)
        if match is None:
            return _json(404, {"error": "not_found", "message": f"No route {path}."})
        if api_key != knobs.api_key:
            # Like some real APIs, the error quotes the key it was sent.
            return _json(401, {"error": "invalid_api_key",
                               "message": f"The API key {api_key!r} is not valid."})
        account_id = match.group(1)
        if account_id not in data.ACCOUNTS:
            return _json(404, {"error": "not_found", "message": f"No account {account_id!r}."})
        if account_id in knobs.revoked_accounts.split(","):
            return _json(401, {"error": "invalid_api_key",
                               "message": f"The API key {api_key!r} has no access to account "
                                          f"{account_id!r}."})
        page = parse_qs(query).get("page", ["1"])[0]
        if not page.isdigit() or int(page) < 1:
            return _json(400, {"error": "bad_request", "message": "page must be a number >= 1"})

        roll = random.Random(f"{knobs.seed}:{path}?{query}:{nth}").random()
        if roll < knobs.failure_rate:
            return _json(503, {"error": "unavailable", "message": "Try again later."})
        roll -= knobs.failure_rate
        if roll < knobs.rate_limit_rate:
            status, headers, body = _json(429, {"error": "rate_limited"})
            return status, {**headers, "Retry-After": str(knobs.retry_after)}, body
        roll -= knobs.rate_limit_rate
        items = data.invoices(account_id, seed=knobs.seed)
        result = data.page_of(items, page=int(page), page_size=knobs.page_size)
        if roll < knobs.malformed_rate:
            return _malformed(result, nth)
        return _json(200, result)


def _json(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _malformed(result: dict[str, Any], nth: int) -> tuple[int, dict[str, str], bytes]:
    """Two kinds of broken: a body cut short, or a record whose amount is not a number."""
    if nth % 2 == 0:
        status, headers, body = _json(200, result)
        return status, headers, body[: len(body) // 2]
    broken = [dict(item, amount="twelve") for item in result["data"]] or [{"id": None}]
    return _json(200, dict(result, data=broken))


def _shown(knobs: Knobs) -> dict[str, Any]:
    return dict(asdict(knobs), api_key="********")


def _handler_for(fake: FakeInvoicesPlus) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            url = urlsplit(self.path)
            if url.path == "/_control":
                return self._send(*_json(200, _shown(fake.knobs)))
            status, headers, body = fake.answer(url.path, url.query, self.headers.get("X-Api-Key"))
            with fake._lock:
                fake.log.append(Logged(time.monotonic(), self.path, status))
            self._send(status, headers, body)

        def do_POST(self) -> None:  # noqa: N802
            if urlsplit(self.path).path != "/_control":
                return self._send(*_json(404, {"error": "not_found"}))
            length = int(self.headers.get("Content-Length") or 0)
            try:
                changes = json.loads(self.rfile.read(length) or b"{}")
                known = {f.name for f in fields(Knobs)}
                unknown = set(changes) - known
                if unknown:
                    raise ValueError(f"unknown knobs {sorted(unknown)}; known: {sorted(known)}")
                knobs = fake.configure(**{**asdict(fake.knobs), **changes})
            except (ValueError, TypeError) as exc:
                return self._send(*_json(400, {"error": "bad_request", "message": str(exc)}))
            self._send(*_json(200, _shown(knobs)))

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            if fake.verbose:
                print(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}",
                      flush=True)

    return Handler
