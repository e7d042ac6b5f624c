"""Keyset pagination for lists that grow without end (a history, an activity log): pages by
id, newest first, with "Newer" and "Older" links and no COUNT, so the hundredth page costs
what the first does on an index that ends in the id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict

MAX_ID = 2**63 - 1


def _cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 0 < int(value) <= MAX_ID else None


@dataclass
class KeysetPage:
    rows: list[Any]
    newer: int | None  # `after=` of the page before this one (newer rows), if any
    older: int | None  # `before=` of the page after it (older rows), if any


def keyset_page(queryset: QuerySet, params: QueryDict, per_page: int) -> KeysetPage:
    """The rows of `queryset` that `params` asks for (`before=<id>`: older than it, `after=<id>`:
    newer than it, neither: the newest), at most `per_page`, newest first."""
    before, after = _cursor(params.get("before")), _cursor(params.get("after"))
    if after is not None:
        rows = list(queryset.filter(pk__gt=after).order_by("pk")[: per_page + 1])
        more_newer = len(rows) > per_page
        rows = rows[:per_page][::-1]
        more_older = bool(rows) and queryset.filter(pk__lt=rows[-1].pk).exists()
    else:
        newest = queryset if before is None else queryset.filter(pk__lt=before)
        rows = list(newest.order_by("-pk")[: per_page + 1])
        more_older = len(rows) > per_page
        rows = rows[:per_page]
        more_newer = before is not None and queryset.filter(pk__gte=before).exists()
    return KeysetPage(
        rows=rows,
        newer=rows[0].pk if rows and more_newer else None,
        older=rows[-1].pk if rows and more_older else None,
    )
