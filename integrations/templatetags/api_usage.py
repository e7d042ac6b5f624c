"""`{% api_key_usage key as usage %}`: what the key detail page shows about calling the API
with this key (docs link, a ready curl line, the key's recent lookups). Two queries."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from integrations.api import openapi
from integrations.api import services as api_services
from integrations.models import ApiKey

register = template.Library()

RECENT_LOOKUPS = 20


@register.simple_tag(takes_context=True)
def api_key_usage(context: template.Context, api_key: ApiKey) -> dict[str, Any]:
    request = context.get("request")
    base = request.build_absolute_uri(openapi.SERVER_URL) if request else openapi.SERVER_URL
    facility = api_services.facilities_in_scope(api_key=api_key).first()
    facility_id = facility.facility_id if facility else "FACILITY_ID"
    curl = (
        f'curl -s -H "X-API-Key: {api_key.api_key}" -H "X-API-Secret: $DAVINCI_API_SECRET" '
        f"'{base}/facilities/{facility_id}/units/'"
    )
    return {
        "docs_url": reverse("api:docs"),
        "openapi_url": reverse("api:openapi"),
        "curl": curl,
        "facility": facility,
        "lookups": api_services.recent_lookups(api_key=api_key, limit=RECENT_LOOKUPS),
    }
