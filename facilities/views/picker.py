"""The facility picker's search (static/js/facility_picker.js): the facilities the signed-in
member may give to a key or a member, found by name, address or Facility ID, at most a page
at a time. Another account's facilities, and those outside the member's access, are never
read: every query starts from `for_membership()`."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from davinci.accounts.decorators import account_required
from davinci.accounts.permissions import MANAGES_INTEGRATIONS, MANAGES_USERS
from facilities.forms import PickerSearchForm, picker_matches
from facilities.models import Facility

# Whoever edits keys or members chooses facilities.
PICKS_FACILITIES = tuple(dict.fromkeys((*MANAGES_USERS, *MANAGES_INTEGRATIONS)))


def _choice(facility: Facility) -> dict:
    return {
        "facility_id": facility.facility_id,
        "name": facility.name,
        "address": facility.address,
        "include_in_api": facility.include_in_api,
    }


@require_safe
@never_cache
@account_required(*PICKS_FACILITIES)
def facility_picker(request: HttpRequest) -> JsonResponse:
    """`?q=harbor`: the first matches by name. `?ids=a,b`: those facilities, in that order
    (the chosen list's names); IDs the member may not choose are left out."""
    form = PickerSearchForm(request.GET)
    if not form.is_valid():
        message = " ".join(error for errors in form.errors.values() for error in errors)
        return JsonResponse({"error": message}, status=400)
    facilities = Facility.objects.for_membership(request.membership)
    ids = form.cleaned_data["ids"]
    if ids:
        found = {f.facility_id: f for f in facilities.filter(facility_id__in=ids)}
        results, more = [found[i] for i in ids if i in found], False
    else:
        results, more = picker_matches(facilities, form.cleaned_data["q"])
    return JsonResponse({"results": [_choice(f) for f in results], "more": more})
