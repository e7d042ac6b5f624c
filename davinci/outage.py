"""What counts as an outage: PostgreSQL, or Redis where throttles and rate limits are counted
(CACHE_URL). Either one down is a 503 with Retry-After — on the API and the portal alike —
not a bug.

Django turns an exception raised inside a middleware (the session or the user loaded before
any view runs) into a 500 response before an outer middleware sees it. The one receiver below
keeps the outage on the request, so the middleware that answers 503 (the portal's page in
davinci/middleware.py, the API's JSON in integrations/api/errors.py) can tell an outage from a
bug: `outage_of(request)`.
"""

import sys
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

CACHE_ERRORS = (RedisConnectionError, RedisTimeoutError)
DATABASE_ERRORS = (OperationalError, InterfaceError, *CACHE_ERRORS)
UNAVAILABLE_RETRY_AFTER = 5  # seconds; a database restart or failover takes about that long


def what_is_down(exception: BaseException | None) -> str:
    """ "cache" or "database": the backend an outage error came from, named in the 503 and the
    log as /readyz names it."""
    return "cache" if isinstance(exception, CACHE_ERRORS) else "database"


def outage_of(request: HttpRequest) -> BaseException | None:
    """The first outage error raised while answering `request`, wherever it was raised."""
    return getattr(request, "outage", None)


@receiver(got_request_exception)
def _remember_outage(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # The first one is the cause; later ones come from error pages failing in turn.
    exception = sys.exc_info()[1]
    if request is not None and isinstance(exception, DATABASE_ERRORS) and not outage_of(request):
        request.outage = exception
