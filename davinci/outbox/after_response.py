"""Notices handed on once a response is out, so that what a notice turns out to do (send a
code, send nothing) never shows in the answer, its timing, or the connection's.

`RedirectThenDispatch` is the redirect such a view answers. WSGI servers call its close()
once the body is written; only then is the notice handed on: with a broker, a publish that
costs every notice the same; in-process (no broker: `make run`), on a thread of its own,
because a development server keeps the connection (and the redirect the browser follows on
it) until close() returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections
from django.http import HttpResponseRedirect

from davinci.outbox.models import Notice
from davinci.outbox.tasks import deliver, notice_dispatch


def in_background(function: Callable[..., object], *args: object) -> threading.Thread:
    """Run `function(*args)` on a daemon thread of its own, which closes its database
    connections when done."""

    def run() -> None:
        try:
            function(*args)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="outbox-in-process", daemon=True)
    thread.start()
    return thread


def notice_dispatch_after_response(notice_id: int) -> None:
    """Hand the notice on without doing its work in the request's thread."""
    if deliver.app.conf.task_always_eager:
        in_background(notice_dispatch, notice_id)
    else:
        notice_dispatch(notice_id)


class RedirectThenDispatch(HttpResponseRedirect):
    """A redirect whose notice is handed on once the redirect has gone out. Every answer of
    the view queues one notice, whether or not it has anything to send (the task decides),
    so neither the answer nor its timing tells which it was."""

    def __init__(self, redirect_to: str, *, notice: Notice) -> None:
        super().__init__(redirect_to)
        self.notice = notice

    def close(self) -> None:
        try:
            notice_dispatch_after_response(self.notice.pk)
        finally:
            super().close()
