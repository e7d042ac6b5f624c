"""One email path: every email and text message of the product is sent by
davinci/outbox/emails.py, from an outbox sender. No other module of the product calls Django's
mail functions or the SMS backend — not by name, not through an attribute."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("davinci", "facilities", "integrations", "team")
THE_ONE_MODULE = Path("davinci/outbox/emails.py")
SENDING_NAMES = {
    "send_mail",
    "send_mass_mail",
    "mail_admins",
    "mail_managers",
    "EmailMessage",
    "EmailMultiAlternatives",
    "get_connection",
    "send_sms",
    "send_messages",
}


def _uses(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) of every mention of a sending name: a name, an attribute, an import."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in SENDING_NAMES:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute) and node.attr in SENDING_NAMES:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.ImportFrom):
            found += [(node.lineno, a.name) for a in node.names if a.name in SENDING_NAMES]
    return found


def _sends_elsewhere(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative == THE_ONE_MODULE:
            continue
        for line, name in _uses(ast.parse(path.read_text(), filename=str(path))):
            found.append(f"{relative}:{line} {name}")
    return found


@pytest.mark.parametrize("package", PRODUCT)
def test_nothing_but_the_one_module_sends(package):
    allowed = {
        # The SMS backends themselves: how a message leaves, not which one is sent.
        "davinci/sms.py",
    }
    found = [hit for hit in _sends_elsewhere(package) if hit.split(":")[0] not in allowed]
    assert found == []


def test_the_sms_module_only_defines_its_backends():
    """davinci/sms.py is let through above for its backends' send_messages and its own
    send_sms: it calls no mail function."""
    uses = _uses(ast.parse((ROOT / "davinci/sms.py").read_text()))
    assert {name for _, name in uses} <= {"send_messages"}


def test_the_check_sees_each_spelling():
    code = (
        "from django.core.mail import send_mail\n"
        "import django.core.mail\n"
        "django.core.mail.EmailMessage('s', 'b', to=['x']).send()\n"
        "sms.send_sms(to='1', body='b')\n"
    )
    assert sorted(_uses(ast.parse(code))) == [
        (1, "send_mail"),
        (3, "EmailMessage"),
        (4, "send_sms"),
    ]


def test_the_one_module_sends():
    assert {"EmailMessage", "send_sms"} <= {
        n for _, n in _uses(ast.parse((ROOT / THE_ONE_MODULE).read_text()))
    }
