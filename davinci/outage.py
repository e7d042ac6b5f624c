"""What counts as an outage: PostgreSQL, or Redis where throttles and rate limits are counted
(CACHE_URL). Either one down is a 503 with Retry-After — on the API and the portal alike —
not a bug."""

from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

CACHE_ERRORS = (RedisConnectionError, RedisTimeoutError)
DATABASE_ERRORS = (OperationalError, InterfaceError, *CACHE_ERRORS)
UNAVAILABLE_RETRY_AFTER = 5  # seconds; a database restart or failover takes about that long


def what_is_down(exception: BaseException | None) -> str:
    """ "cache" or "database": the backend an outage error came from, named in the 503 and the
    log as /readyz names it."""
    return "cache" if isinstance(exception, CACHE_ERRORS) else "database"
