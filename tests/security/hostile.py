"""Hostile strings shared by the security tests: injections, odd Unicode, control characters,
huge and empty values. Each is something a real attacker or a confused client sends."""

from __future__ import annotations

import base64
import json


def _cursor(after: object) -> str:
    """A cursor as the API makes them, around a value it never would."""
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


SQL = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "1; DROP TABLE facilities_lock; --",
    '" OR ""="',
    "A101' UNION SELECT unlock_code_encrypted FROM facilities_lock --",
    "%' OR '%'='",
    "\\'; SELECT pg_sleep(5); --",
    "1) OR (1=1",
]
TEMPLATE = [
    "{{7*7}}",
    "{% debug %}",
    "{{ settings.SECRET_KEY }}",
    "{% load log %}{% get_admin_log 10 as x %}",
    "${7*7}",
    "<%= 7*7 %>",
    "#{7*7}",
    "{0.__class__.__mro__}",
    "%s%s%s%n",
]
MARKUP = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    '=HYPERLINK("http://evil.example","x")',
]
PATHS = ["../../../../etc/passwd", "..\\..\\windows\\win.ini", ".", "..", "A/101", "A\\101"]
UNICODE = [
    "ünït-42",
    "\uff21\uff11\uff10\uff11",  # fullwidth: NFKC would make it A101
    "A101\u202e",  # right-to-left override
    "A\u200b101",  # zero-width space
    "\ufeffA101",  # byte-order mark
    "🔒🔑",
    "ß",
    "ﬁ",  # upper() turns one character into two
    "İ",  # lower() turns one character into two
    "\u0301",  # a lone combining accent
]
CONTROL = ["A101\x00", "\x00", "A\r\nSet-Cookie: pwned=1", "\t", "\x1b[31m", "\x7f"]
SIZES = ["", " ", "A" * 21, "9" * 400, "X" * 10_000]
NUMBERS = ["-1", "0", "1e309", "NaN", "Infinity", "99999999999999999999999", "0x1F", "1.5"]
JSONISH = [
    "null",
    "true",
    "[]",
    "{}",
    '{"after": "A101"}',
    _cursor("\x00"),
    _cursor("' OR 1=1 --"),
    _cursor(["A101"]),
    _cursor("A" * 5000),
]

ALL = [*SQL, *TEMPLATE, *MARKUP, *PATHS, *UNICODE, *CONTROL, *SIZES, *NUMBERS, *JSONISH]
# Fewer for the portal, where each value is posted to every form of every page.
PORTAL = [
    SQL[0],
    SQL[2],
    TEMPLATE[0],
    TEMPLATE[1],
    TEMPLATE[7],
    MARKUP[0],
    MARKUP[3],
    PATHS[0],
    UNICODE[1],
    UNICODE[2],
    UNICODE[5],
    UNICODE[8],
    CONTROL[0],
    CONTROL[2],
    "",
    "X" * 100_000,
    "-1",
    "99999999999999999999999",
    "1e309",
    "2026-02-30",
    "0.0.0.0/0\n::/0\n" * 5,
]
