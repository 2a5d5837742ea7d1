"""System checks by id, and the scrubbing of secrets from stored errors."""

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from async_actions.cleansing import cleanse_text, sensitive_setting_values
from async_actions.conf import aa_settings


def _ids():
    return sorted(message.id for message in run_checks() if message.id.startswith("async_actions"))


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


@override_settings(ASYNC_ACTIONS=[])
def test_e001_even_for_an_empty_non_dict():
    assert _ids() == ["async_actions.E001"]
