"""davinci/outbox/emails.py: one function per email and text message, each with its templates,
sent only from an outbox sender (so always as a Notice)."""

from __future__ import annotations

import inspect

import pytest
from django.core import mail
from django.template.loader import get_template

from davinci.outbox import emails
from davinci.outbox.tasks import Sender

CATALOGUE = [
    (name, function)
    for name, function in inspect.getmembers(emails, inspect.isfunction)
    if function.__module__ == emails.__name__
    and not name.startswith("_")
    and name != "email_render"
]


def test_an_email_sent_outside_an_outbox_sender_is_refused():
    with pytest.raises(RuntimeError, match="outbox sender"):
        emails.account_email_taken(to="someone@example.com", context={})
    assert mail.outbox == []


def test_an_outbox_sender_sends_it():
    sender = Sender(
        kind="test_email",
        send=lambda: emails.account_email_taken(to="someone@example.com", context={}),
    )
    sender()
    (message,) = mail.outbox
    assert message.to == ["someone@example.com"]
    assert message.subject == "[DaVinci Lock] Your address was entered for another account"


def test_no_recipients_no_email():
    Sender(kind="test_email", send=lambda: emails.api_key_event(to=[], context={}))()
    assert mail.outbox == []


@pytest.mark.parametrize(("name", "function"), CATALOGUE)
def test_every_function_has_its_templates(name, function):
    if name.endswith("_text"):
        get_template(f"sms/{name.removesuffix('_text')}.txt")
    else:
        get_template(f"emails/{name}_subject.txt")
        get_template(f"emails/{name}.txt")


def test_every_template_is_sent_by_a_function(settings):
    names = {name for name, _ in CATALOGUE}
    templates = settings.BASE_DIR / "templates"
    emails_sent = {
        p.name.removesuffix("_subject.txt") for p in templates.glob("emails/*_subject.txt")
    }
    texts_sent = {p.stem + "_text" for p in templates.glob("sms/*.txt")}
    assert emails_sent | texts_sent == names
