"""/api/docs/ for a signed-in member: `{% docs_facility as facility %}` is the first facility
of theirs included in the API (by name), and `{{ text|with_facility_id:facility }}` puts its
Facility ID where the examples have the placeholder, so a reader can paste an example as is.
One query, only when someone is signed in."""

from __future__ import annotations

from django import template

from facilities.models import Facility
from integrations.api.openapi import EXAMPLE_FACILITY_ID

register = template.Library()


@register.simple_tag(takes_context=True)
def docs_facility(context: template.Context) -> Facility | None:
    membership = context.get("current_membership")
    if membership is None:
        return None
    return (
        Facility.objects.for_membership(membership).included_in_api().order_by("name", "id").first()
    )


@register.filter
def with_facility_id(text: str, facility: Facility | None) -> str:
    return text.replace(EXAMPLE_FACILITY_ID, facility.facility_id) if facility else text
