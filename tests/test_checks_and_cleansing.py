"""System checks by id, and the scrubbing of secrets from stored errors."""

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from async_actions.checks import delivery_warnings
from async_actions.cleansing import cleanse_text, scrubber, sensitive_setting_values
from async_actions.conf import aa_settings

SUBSTITUTE = "********************"


def _ids(*, delivery=False):
    """Our check ids; W010 (the tests' Celery app runs without acks_late) only when asked."""
    return sorted(
        message.id
        for message in run_checks()
        if message.id.startswith("async_actions")
        and (delivery or message.id != "async_actions.W010")
    )


def test_no_findings_for_the_test_settings():
    assert _ids() == []


@override_settings(ASYNC_ACTIONS=["not", "a", "dict"])
def test_e001_settings_not_a_dict():
    assert _ids() == ["async_actions.E001"]


@override_settings(ASYNC_ACTIONS={"LOST_AFTERR": 10})
def test_e002_unknown_key_names_the_key():
    [message] = [m for m in run_checks() if m.id == "async_actions.E002"]
    assert "'LOST_AFTERR'" in message.msg
    assert "LOST_AFTER" in message.hint


@pytest.mark.parametrize("value", [0, -5, "6h", True])
def test_e003_lost_after_must_be_positive_seconds(value):
    with override_settings(ASYNC_ACTIONS={"LOST_AFTER": value}):
        assert _ids() == ["async_actions.E003"]


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_w001_connection_per_task_on_a_server_database(settings):
    settings.DATABASES = {
        "default": {"ENGINE": "django.db.backends.postgresql", "NAME": "x", "CONN_MAX_AGE": 0}
    }
    assert "async_actions.W001" in _ids()
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 60
    assert "async_actions.W001" not in _ids()


def test_settings_are_reread_after_override():
    assert aa_settings.LOST_AFTER == 6 * 60 * 60
    with override_settings(ASYNC_ACTIONS={"LOST_AFTER": 42}):
        assert aa_settings.LOST_AFTER == 42
    assert aa_settings.LOST_AFTER == 6 * 60 * 60


@override_settings(
    PAYMENT_API_KEY="pk_live_abcdef",
    STRIPE={"webhook_secret": "whsec_123456", "mode": "live"},
    BACKENDS=[{"NAME": "x", "PASSWORD": "hunter2hunter2"}],
    HARMLESS_NAME="visible-value",
)
def test_sensitive_values_are_replaced_wherever_they_appear():
    text = (
        "POST /charge key=pk_live_abcdef failed; webhook whsec_123456; "
        "db password hunter2hunter2; name visible-value; mode live"
    )

    cleansed = cleanse_text(text)

    for secret in ("pk_live_abcdef", "whsec_123456", "hunter2hunter2"):
        assert secret not in cleansed
    assert "visible-value" in cleansed and "mode live" in cleansed
    assert cleansed.count("********************") == 3


@override_settings(SHORT_TOKEN="ab", ASYNC_ACTIONS={"MIN_SECRET_LENGTH": 4})
def test_very_short_secrets_are_not_scrubbed():
    assert "ab" not in sensitive_setting_values()
    assert cleanse_text("table abc") == "table abc"


def test_w010_each_missing_delivery_setting_is_named():
    """The tests' app keeps Celery's defaults (tests kill workers on purpose)."""
    assert _ids(delivery=True).count("async_actions.W010") == 3
    warnings = delivery_warnings({"task_acks_late": True, "worker_prefetch_multiplier": 4})
    assert [w.id for w in warnings] == ["async_actions.W010", "async_actions.W010"]
    assert "task_reject_on_worker_lost" in warnings[0].msg
    assert "worker_prefetch_multiplier" in warnings[1].msg
    recommended = {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
    }
    assert delivery_warnings(recommended) == []


@pytest.mark.parametrize(
    "scrub",
    [
        {"SCRUB": "tests.no_such_module.scrub"},
        {"SCRUB": "tests.settings.SECRET_KEY"},
        {"SCRUB_PATTERNS": ["(unclosed"]},
    ],
)
def test_e010_bad_scrub_settings(scrub):
    with override_settings(ASYNC_ACTIONS=scrub):
        assert _ids() == ["async_actions.E010"]
        with pytest.raises(ImproperlyConfigured, match="ASYNC_ACTIONS"):
            cleanse_text("any text")


def test_passwords_inside_urls_are_scrubbed_user_and_host_kept():
    text = (
        "could not connect to postgres://app:s3cr3t-pw@db.internal:5432/shop; "
        "sentry https://abc123:def456@o1.ingest.sentry.io/7 and redis://:r3dispw@cache:6379/0"
    )

    cleansed = cleanse_text(text)

    for secret in ("s3cr3t-pw", "def456", "r3dispw"):
        assert secret not in cleansed
    assert f"postgres://app:{SUBSTITUTE}@db.internal:5432/shop" in cleansed
    assert f"redis://:{SUBSTITUTE}@cache:6379/0" in cleansed


def test_sensitive_environment_variables_are_scrubbed(monkeypatch):
    monkeypatch.setenv("BILLING_API_TOKEN", "tok_9f8e7d6c5b")
    monkeypatch.setenv("SENTRY_DSN", "https://pub@o1.ingest.sentry.io/42")
    monkeypatch.setenv("FEATURE_AUTH_ENABLED", "true")
    monkeypatch.setenv("SHOP_NAME", "Acme-Widgets")
    with override_settings(ASYNC_ACTIONS={}):  # the scrubber is rebuilt on a settings change
        cleansed = cleanse_text(
            "auth tok_9f8e7d6c5b rejected by https://pub@o1.ingest.sentry.io/42 "
            "for Acme-Widgets (enabled: true)"
        )

    assert "tok_9f8e7d6c5b" not in cleansed and "o1.ingest.sentry.io/42" not in cleansed
    assert "Acme-Widgets" in cleansed and "(enabled: true)" in cleansed


@override_settings(PAYMENT_API_KEY='pk/li"ve\\ab+c d')
def test_escaped_and_encoded_forms_of_a_secret_are_scrubbed():
    secret = 'pk/li"ve\\ab+c d'
    from urllib.parse import quote, quote_plus

    forms = [secret, repr(secret), quote(secret, safe=""), quote_plus(secret), '"pk/li\\"ve']
    cleansed = cleanse_text(" | ".join(forms[:4]))

    assert "li" not in cleansed.replace(SUBSTITUTE, "")
    assert cleansed.count(SUBSTITUTE) == 4


@override_settings(
    ASYNC_ACTIONS={
        "SCRUB_PATTERNS": [r"card \d{4}-\d{4}", r"(?<=session=)\w+"],
        "SCRUB": "tests.scrubbing.mask_emails",
    }
)
def test_project_patterns_and_callable_run_after_the_built_in_rules():
    cleansed = cleanse_text("card 1234-5678 session=abcdef for ann@example.com")

    assert cleansed == f"{SUBSTITUTE} session={SUBSTITUTE} for <email>"


def test_the_scrubber_is_built_once_and_rebuilt_on_a_settings_change():
    first = scrubber()
    assert scrubber() is first
    with override_settings(ASYNC_ACTIONS={"SCRUB_PATTERNS": ["x{3}"]}):
        rebuilt = scrubber()
        assert rebuilt is not first
        assert cleanse_text("axxxb") == f"a{SUBSTITUTE}b"
    assert scrubber() is not rebuilt


@pytest.mark.parametrize(
    "setting",
    [
        {"HEARTBEAT_INTERVAL": 0},
        {"WORKER_LOST_AFTER": "1m"},
        {"WRITE_RETRY_WINDOW": -1},
        {"PARK_AFTER": 0},
    ],
)
def test_e011_heartbeat_and_retry_windows_must_be_positive_seconds(setting):
    with override_settings(ASYNC_ACTIONS=setting):
        assert _ids() == ["async_actions.E011"]


def test_w011_worker_lost_after_needs_room_for_missed_beats():
    with override_settings(ASYNC_ACTIONS={"HEARTBEAT_INTERVAL": 10, "WORKER_LOST_AFTER": 20}):
        assert _ids() == ["async_actions.W011"]
    with override_settings(ASYNC_ACTIONS={"HEARTBEAT_INTERVAL": 10, "WORKER_LOST_AFTER": 30}):
        assert _ids() == []


@override_settings(ASYNC_ACTIONS=[])
def test_e001_even_for_an_empty_non_dict():
    assert _ids() == ["async_actions.E001"]


@pytest.mark.parametrize("publish", ["relays", "", None, True])
def test_e012_publish_must_name_a_way_to_publish(publish):
    with override_settings(ASYNC_ACTIONS={"PUBLISH": publish}):
        assert _ids() == ["async_actions.E012"]
    for fine in ("commit", "relay"):
        with override_settings(ASYNC_ACTIONS={"PUBLISH": fine}):
            assert _ids() == []
