import re

import pytest
from django.core import mail

from tests.conftest import confirmed, signed_in


def link_in(message) -> str:
    """The one http(s) link of an email body."""
    (url,) = re.findall(r"https?://\S+", message.body)
    return url


@pytest.fixture
def outbox(django_capture_on_commit_callbacks):
    """Emails, with on-commit sending run: `with outbox() as sent:` ... `sent` is the list."""

    class Capture:
        def __call__(self):
            return django_capture_on_commit_callbacks(execute=True)

    mail.outbox.clear()
    return Capture()


@pytest.fixture
def owner_client(owner):
    """Team's editors confirmed it is them lately: their changes go through (asking first
    is tests/accounts/test_recently_confirmed.py's)."""
    return confirmed(signed_in(owner))


@pytest.fixture
def admin_client(admin_user):
    return confirmed(signed_in(admin_user))
