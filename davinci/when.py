"""One way to write a moment for people, everywhere (pages, emails, CSV): "Dec 2, 2026 14:05
EST", in the account's time zone (Account.time_zone) with its abbreviation, so nobody has to
guess which clock a time is on.

Portal requests run in the account's zone (davinci.accounts.middleware.AccountTimeZoneMiddleware);
emails and tasks, which have no request, name the account's zone with `timezone.override`.
Templates use the `when` and `day` filters ({% load when %}).
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, tzinfo
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils import dateformat, timezone

WHEN_FORMAT = "M j, Y H:i T"  # Django's date format: Dec 2, 2026 14:05 EST
DAY_FORMAT = "M j, Y"  # Dec 2, 2026


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """The IANA zones Python knows, sorted (UTC first), for the Account setting."""
    names = sorted(name for name in zoneinfo.available_timezones() if "/" in name)
    return ("UTC", *names)


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            "Choose a time zone from the list, e.g. America/New_York.", code="time_zone"
        )


def zone(name: str) -> tzinfo:
    """The zone of that name; UTC for a name Python does not know (never a 500)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def when(value: datetime | None, tz: tzinfo | None = None) -> str:
    """`value` in `tz` (default: the active zone, the account's in a portal request)."""
    if value is None:
        return ""
    return dateformat.format(timezone.localtime(value, tz), WHEN_FORMAT)


def day(value: datetime | date | None, tz: tzinfo | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value, tz)
    return dateformat.format(value, DAY_FORMAT)
