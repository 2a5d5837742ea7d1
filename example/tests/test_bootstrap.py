"""The demo's setup step: an admin user whose printed password works, on every re-run."""

import pytest
from django.contrib.auth import get_user_model

from example.bootstrap import ensure_admin

pytestmark = pytest.mark.django_db


def test_first_run_creates_a_superuser_with_the_stored_password(tmp_path):
    credentials = ensure_admin(password_file=tmp_path / "pw")

    user = get_user_model().objects.get(username="admin")
    assert credentials.created is True
    assert user.is_superuser and user.check_password(credentials.password)
    assert (tmp_path / "pw").read_text().strip() == credentials.password
    assert len(credentials.password) >= 12


def test_a_rerun_prints_the_same_password_and_creates_nothing(tmp_path):
    first = ensure_admin(password_file=tmp_path / "pw")
    again = ensure_admin(password_file=tmp_path / "pw")

    assert again.created is False
    assert again.password == first.password
    assert get_user_model().objects.count() == 1


def test_a_changed_password_is_reset_so_the_printed_one_works(tmp_path):
    first = ensure_admin(password_file=tmp_path / "pw")
    user = get_user_model().objects.get(username="admin")
    user.set_password("changed-by-hand")
    user.save()

    again = ensure_admin(password_file=tmp_path / "pw")

    user.refresh_from_db()
    assert again.password == first.password
    assert user.check_password(again.password)
