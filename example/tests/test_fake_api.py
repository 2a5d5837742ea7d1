"""The fake InvoicesPlus API itself: paging, the key, the knobs, and determinism."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from example.invoicesplus_fake import FakeInvoicesPlus, Knobs
from example.invoicesplus_fake.data import ACCOUNTS

KEY = "ipk_test_0123456789"


@pytest.fixture
def server():
    fake = FakeInvoicesPlus(knobs=Knobs(api_key=KEY)).start()
    yield fake
    fake.stop()


def get(server, path, key=KEY):
    request = urllib.request.Request(server.url + path, headers={"X-Api-Key": key} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_the_list_pages_through_every_invoice_once(server):
    pages, page = [], 1
    while page:
        status, _, body = get(server, f"/v1/accounts/acme/invoices?page={page}")
        assert status == 200
        pages.append(json.loads(body))
        page = pages[-1]["next_page"]

    ids = [item["id"] for p in pages for item in p["data"]]
    assert [len(p["data"]) for p in pages] == [10, 10, 3]
    assert len(ids) == len(set(ids)) == ACCOUNTS["acme"] == pages[0]["total"]
    assert {p["pages"] for p in pages} == {3}  # known from the first answer on


def test_a_wrong_or_missing_key_is_a_401_quoting_the_key_sent(server):
    status, _, body = get(server, "/v1/accounts/acme/invoices?page=1", key="ipk_wrong_key")
    assert status == 401
    assert "ipk_wrong_key" in json.loads(body)["message"]
    assert get(server, "/v1/accounts/acme/invoices?page=1", key=None)[0] == 401


def test_a_revoked_account_is_a_401_while_the_others_answer(server):
    server.configure(api_key=KEY, revoked_accounts="globex,initech")

    assert get(server, "/v1/accounts/globex/invoices?page=1")[0] == 401
    assert get(server, "/v1/accounts/initech/invoices?page=1")[0] == 401
    assert get(server, "/v1/accounts/acme/invoices?page=1")[0] == 200


def test_unknown_accounts_are_404(server):
    assert get(server, "/v1/accounts/nobody/invoices?page=1")[0] == 404


def test_rate_limiting_sends_retry_after(server):
    server.configure(api_key=KEY, rate_limit_rate=1.0, retry_after=7)

    status, headers, _ = get(server, "/v1/accounts/acme/invoices?page=1")

    assert status == 429
    assert headers["Retry-After"] == "7"


def test_the_same_seed_gives_the_same_answers_and_another_seed_does_not(server):
    def statuses(seed):
        server.configure(api_key=KEY, seed=seed, failure_rate=0.3, rate_limit_rate=0.2,
                         malformed_rate=0.1)
        return [get(server, f"/v1/accounts/globex/invoices?page={1 + n % 2}")[0] for n in range(30)]

    first = statuses(seed=7)
    assert statuses(seed=7) == first
    assert statuses(seed=8) != first
    assert {200, 429, 503} <= set(first)


def test_malformed_answers_come_in_two_kinds(server):
    server.configure(api_key=KEY, malformed_rate=1.0)
    bodies = [get(server, "/v1/accounts/acme/invoices?page=1")[2] for _ in range(2)]

    with pytest.raises(ValueError):
        json.loads(bodies[0])  # cut short
    assert {item["amount"] for item in json.loads(bodies[1])["data"]} == {"twelve"}


def test_the_control_endpoint_changes_knobs_and_hides_the_key(server):
    request = urllib.request.Request(
        server.url + "/_control", data=json.dumps({"failure_rate": 1.0}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        shown = json.loads(response.read())

    assert shown["failure_rate"] == 1.0 and KEY not in json.dumps(shown)
    assert server.knobs.api_key == KEY  # unchanged knobs are kept
    assert get(server, "/v1/accounts/acme/invoices?page=1")[0] == 503
    bad = urllib.request.Request(server.url + "/_control", data=b'{"nope": 1}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(bad, timeout=5)
    assert error.value.code == 400
