"""`@uncompressed`: a view whose answers GZipMiddleware leaves alone.

Pages and API answers are gzip-compressed for a client that asks (settings.MIDDLEWARE). An
answer that carries a secret (an API Secret, an unlock code) is not: compressed next to text
an attacker chose, a secret leaks through the answer's length, one guessed character at a
time (BREACH). docs/hardening.md says which views and why the others are safe.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse


def uncompressed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Never gzip this view's answers, whatever the client accepts.

    GZipMiddleware compresses only for a request whose Accept-Encoding names gzip; the view
    forgets that header, so the middleware answers as to a client that does not (it still
    adds `Vary: Accept-Encoding`)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_ENCODING", None)
        return view(request, *args, **kwargs)

    return wrapper
