"""`thousands`: a count with thousands separators ("12,345"), as humanize's intcomma writes
it in English. The report tables print a few hundred counts a page, and intcomma's locale
machinery cost 9 ms of a 45 ms page (cProfile, the largest operator's code disclosures)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def thousands(value: int | None) -> str:
    if value is None or value == "":
        return ""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)
