import re

import pytest
from django.core import mail


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
