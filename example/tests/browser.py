"""A tiny real HTTP client for the smoke test: cookies, the admin login form, CSRF tokens."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.parse
import urllib.request
from typing import Any

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.url = ""  # where the last request ended, after redirects

    def get(self, path: str) -> str:
        return self._open(urllib.request.Request(self.base_url + path))

    def get_json(self, path: str) -> Any:
        return json.loads(self.get(path))

    def post_form(self, page: str, action: str, data: dict[str, str] | None = None) -> str:
        """Load `page`, take its CSRF token, POST `data` to `action`, follow the redirect."""
        token = _CSRF_INPUT.search(self.get(page))
        assert token, f"no CSRF token on {page}"
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), **(data or {})})
        request = urllib.request.Request(
            self.base_url + action, data=body.encode(), headers={"Referer": self.base_url + page}
        )
        return self._open(request)

    def login(self, username: str, password: str) -> None:
        self.post_form(
            "/admin/login/", "/admin/login/?next=/",
            {"username": username, "password": password, "next": "/"},
        )
        # The demo's root redirects to the dashboard.
        path = urllib.parse.urlparse(self.url).path
        assert path == "/actions/", f"login failed, ended at {self.url}"

    def _open(self, request: urllib.request.Request) -> str:
        with self.opener.open(request, timeout=10) as response:
            self.url = response.geturl()
            return response.read().decode()
