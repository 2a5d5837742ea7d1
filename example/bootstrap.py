"""Getting the demo's database ready: migrations, an admin user, the accounts. Idempotent."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    created: bool


def prepare(*, var_dir: Path) -> Credentials:
    """Run in the launcher process before the servers start (needs DJANGO_SETTINGS_MODULE)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=0)
    credentials = ensure_admin(password_file=var_dir / "admin-password.txt")
    from example.invoices.services import accounts_seed

    accounts_seed()
    connections.close_all()  # SQLite: hold no connection while the servers work
    return credentials


def ensure_admin(*, password_file: Path) -> Credentials:
    """The admin user; its password is printed and kept in var/ so a re-run prints it again."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user = user_model.objects.filter(username=ADMIN_USERNAME).first()
    known = password_file.read_text().strip() if password_file.exists() else ""
    if user is not None and known and user.check_password(known):
        return Credentials(ADMIN_USERNAME, known, created=False)
    password = known or secrets.token_urlsafe(12)
    created = user is None
    if user is None:
        user = user_model.objects.create_superuser(ADMIN_USERNAME, "admin@example.com", password)
    else:
        # The password was changed (or the file lost): reset it, so what we print works.
        user.set_password(password)
        user.save(update_fields=["password"])
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    return Credentials(ADMIN_USERNAME, password, created=created)
