"""What the facilities views share: who may change what, and the filtered, paginated list."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import QueryDict
from django.utils.http import urlencode

from davinci.accounts.decorators import account_required
from davinci.accounts.permissions import CHANGES_LOCKS, EDITS_FACILITIES

edits_facilities = account_required(*EDITS_FACILITIES)
# Units and locks (each lock action also asks permissions.can_change_lock for its lock).
changes_locks = account_required(*CHANGES_LOCKS)
PER_PAGE = 50


def filtered_page(params: QueryDict, queryset, form) -> tuple:
    """The page of `queryset` that `params` (the list's query string) asks for, and the query
    string that keeps the filter."""
    kept = {k: v for k, v in form.cleaned_data.items() if v} if form.is_valid() else {}
    page = Paginator(queryset, PER_PAGE).get_page(params.get("page"))
    return page, urlencode(kept)
