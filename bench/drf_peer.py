"""The unit lookup written as a lean Django REST framework project would write it, for
bench/api_bench.py: djangorestframework-api-key's HasAPIKey (one query, one hash: the key it
verified is kept for the view rather than verified again with get_from_key), DRF's own
throttle (its history in the default cache, Redis on the bench), the read and its LockEvent
in one transaction, a Fernet decrypt, a DRF Response. Served on its own gunicorn under the
product's settings and middleware (bench/settings.py), as the product is.

The DRF key's name holds the account and the product key it stands for ("account:key").
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_api_key.models import APIKey
from rest_framework_api_key.permissions import BaseHasAPIKey

from davinci.accounts import permissions
from facilities.models import LockEvent, Unit
from integrations.api import serializers


class HasAPIKey(BaseHasAPIKey):
    """The library's HasAPIKey (the same query and hash), keeping the key it verified on the
    request: the view reads it there instead of calling get_from_key a second time."""

    model = APIKey

    def has_permission(self, request, view) -> bool:
        key = self.get_key(request)
        try:
            api_key = self.model.objects.get_from_key(key) if key else None
        except self.model.DoesNotExist:
            return False
        if api_key is None or api_key.has_expired:
            return False
        request.api_key = api_key
        return True


class LookupThrottle(SimpleRateThrottle):
    scope = "lookup"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.META["HTTP_X_API_KEY"]}


@login_not_required
@api_view(["GET"])
@permission_classes([HasAPIKey])
@throttle_classes([LookupThrottle])
def unit_lookup(request, facility_id: str, unit_number: str) -> Response:
    account_id, key_id = (int(part) for part in request.api_key.name.split(":"))
    with transaction.atomic():
        unit = (
            Unit.objects.filter(
                facility__account_id=account_id,
                facility__include_in_api=True,
                facility__facility_id=facility_id.lower(),
                unit_number=unit_number,
            )
            .select_related("facility", "lock__facility")
            .first()
        )
        if unit is None:
            return Response({"error": {"code": "not_found"}}, status=404)
        lock = getattr(unit, "lock", None)
        if lock and permissions.key_can_view_code(lock.status):
            LockEvent.objects.create(
                lock=lock,
                kind=LockEvent.Kind.CODE_LOOKED_UP,
                actor_type=LockEvent.Actor.API_KEY,
                api_key_id=key_id,
                unit=unit,
                ip=request.META.get("REMOTE_ADDR"),
                details={"lookup": "unit", "facility_id": unit.facility.facility_id},
            )
    return Response({"data": serializers.unit_data(unit)})
