"""Choosing the database and broker by environment variables."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from async_actions.contrib.backends import broker_settings, database_settings


@pytest.mark.parametrize(
    ("variable", "call"),
    [
        ("AA_DATABASE", lambda tmp: database_settings(sqlite_path=tmp / "db.sqlite3")),
        ("AA_BROKER", lambda tmp: broker_settings(folder=tmp / "broker")),
    ],
)
def test_an_unknown_choice_is_refused_naming_the_variable_and_the_choices(
    monkeypatch, tmp_path, variable, call
):
    monkeypatch.setenv(variable, "mongodb")

    with pytest.raises(ImproperlyConfigured, match=f"{variable}='mongodb' is not one of"):
        call(tmp_path)
    assert not (tmp_path / "broker").exists()


def test_the_embedded_default_needs_no_server(monkeypatch, tmp_path):
    monkeypatch.delenv("AA_DATABASE", raising=False)
    monkeypatch.delenv("AA_BROKER", raising=False)

    database = database_settings(sqlite_path=tmp_path / "db.sqlite3")
    broker = broker_settings(folder=tmp_path / "broker")

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert broker["CELERY_BROKER_URL"] == "filesystem://"
    assert broker["CELERY_BROKER_TRANSPORT"] == "async_actions.contrib.filesystem:Transport"
    assert (tmp_path / "broker").is_dir()
