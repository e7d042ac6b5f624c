"""Real concurrency against Django's threaded live server (loopback, an ephemeral port):
requests sent at once from a bounded pool of threads, each with its own connection."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

MAX_THREADS = 32

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_session(
    url: str, *, cookies: dict[str, str] | None = None
) -> tuple[requests.Session, str]:
    """A session that fetched `url` and holds its CSRF cookie, and the form's token."""
    session = requests.Session()
    session.cookies.update(cookies or {})
    page = session.get(url, timeout=20)
    page.raise_for_status()
    return session, CSRF_INPUT.search(page.text).group(1)


def at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call at the same moment (a barrier releases them together), one thread
    each: at most MAX_THREADS."""
    assert len(calls) <= MAX_THREADS
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], requests.Response]) -> requests.Response:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def live(live_server, transactional_db):
    return live_server
