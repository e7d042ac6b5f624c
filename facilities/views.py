"""The owners' day-to-day screens: facilities, their units and locks, and the top search.

Every view reads through `for_membership()` (another account's object, or a facility outside
the member's access, is a 404), and every change
goes through facilities.services, which writes the LockEvent. Lock actions and the CSV import
live in lock_views.py and import_views.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_safe

from davinci.accounts.decorators import account_required, get_member_object_or_404
from davinci.accounts.models import Membership
from davinci.accounts.permissions import CHANGES_LOCKS, EDITS_FACILITIES
from facilities import notices, services
from facilities.forms import (
    FacilityForm,
    LockFilterForm,
    LockReleaseForm,
    SearchForm,
    UnitAssignLockForm,
    UnitFilterForm,
    UnitForm,
)
from facilities.models import Facility, Lock, LockEvent, LockStatus, Unit

edits_facilities = account_required(*EDITS_FACILITIES)
# Units and locks (each lock action also asks membership.can_change_lock for its lock).
changes_locks = account_required(*CHANGES_LOCKS)
PER_PAGE = 50
SEARCH_LIMIT = 50


def posted(request: HttpRequest):
    """The POST data to bind a form to (even when empty), or None to show it blank."""
    return request.POST if request.method == "POST" else None


def add_service_error(form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: on a field it names, else on the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _filtered_page(request: HttpRequest, queryset, form) -> tuple:
    """The page of `queryset` asked for, and the query string that keeps the filter."""
    params = {k: v for k, v in form.cleaned_data.items() if v} if form.is_valid() else {}
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    return page, urlencode(params)


# --- Facilities -------------------------------------------------------------------------------


@require_safe
@account_required()
def facility_list(request: HttpRequest) -> HttpResponse:
    facilities = (
        Facility.objects.for_membership(request.membership).with_counts().order_by("name", "id")
    )
    page = Paginator(facilities, PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page}
    if request.membership.sees_lock_limit:
        # The account's total; a member with chosen facilities sees the total of theirs.
        locks = Lock.objects.for_membership(request.membership)
        context["account_limit_count"] = locks.counting_towards_limit().count()
    return render(request, "facilities/facility_list.html", context)


@require_http_methods(["GET", "POST"])
@edits_facilities
def facility_create(request: HttpRequest) -> HttpResponse:
    form = FacilityForm(posted(request), account=request.account)
    if request.method == "POST" and form.is_valid():
        facility = services.facility_create(
            account=request.account, **form.cleaned_data, created_by=request.membership
        )
        messages.success(
            request,
            f"{facility.name} is created. Its Facility ID is {facility.facility_id}; it is "
            "included in the API.",
        )
        return redirect("facilities:facility_detail", pk=facility.pk)
    return render(request, "facilities/facility_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@edits_facilities
def facility_edit(request: HttpRequest, pk: int) -> HttpResponse:
    facility = get_member_object_or_404(Facility.objects, request.membership, pk=pk)
    form = FacilityForm(posted(request), instance=facility, account=request.account)
    if request.method == "POST" and form.is_valid():
        services.facility_update(facility=facility, **form.cleaned_data)
        messages.success(request, f"{facility.name} is saved.")
        return redirect("facilities:facility_detail", pk=facility.pk)
    return render(request, "facilities/facility_form.html", {"form": form, "facility": facility})


@require_safe
@account_required()
def facility_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The facility's units with the lock on each door, filtered and paginated.

    A fixed number of queries whatever the size: the facility, the page count and one page
    of units joined to their locks.
    """
    facility = get_member_object_or_404(Facility.objects.with_counts(), request.membership, pk=pk)
    form = UnitFilterForm(request.GET)
    units = facility.units.with_lock().order_by("unit_number", "id")
    if form.is_valid():
        units = units.search(form.cleaned_data["q"]).with_lock_status(form.cleaned_data["status"])
    page, query_string = _filtered_page(request, units, form)
    context = {
        "facility": facility,
        "form": form,
        "page": page,
        "query_string": query_string,
        "tab": "units",
    }
    return render(request, "facilities/facility_detail.html", context)


def _status_counts(facility: Facility) -> list[tuple[str, int]]:
    counts = facility.locks.status_counts()
    return [(status.label, counts[status]) for status in LockStatus if counts.get(status)]


@require_safe
@account_required()
def facility_locks(request: HttpRequest, pk: int) -> HttpResponse:
    """Every lock of the facility, on a unit or not: the inventory."""
    facility = get_member_object_or_404(Facility.objects.with_counts(), request.membership, pk=pk)
    form = LockFilterForm(request.GET)
    locks = facility.locks.select_related("unit").order_by("serial")
    if form.is_valid():
        locks = locks.search(form.cleaned_data["q"])
        if form.cleaned_data["status"]:
            locks = locks.filter(status=form.cleaned_data["status"])
    page, query_string = _filtered_page(request, locks, form)
    context = {
        "facility": facility,
        "form": form,
        "page": page,
        "query_string": query_string,
        "status_counts": _status_counts(facility),
        "tab": "locks",
    }
    return render(request, "facilities/facility_locks.html", context)


# --- Units ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@changes_locks
def unit_create(request: HttpRequest, pk: int) -> HttpResponse:
    facility = get_member_object_or_404(Facility.objects, request.membership, pk=pk)
    form = UnitForm(posted(request), facility=facility)
    if request.method == "POST" and form.is_valid():
        unit = services.unit_create(facility=facility, **form.cleaned_data)
        messages.success(request, f"Unit {unit.unit_number} is added to {facility.name}.")
        return redirect("facilities:unit_detail", pk=unit.pk)
    return render(request, "facilities/unit_form.html", {"form": form, "facility": facility})


@require_http_methods(["GET", "POST"])
@changes_locks
def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_member_object_or_404(
        Unit.objects.select_related("facility"), request.membership, pk=pk
    )
    form = UnitForm(posted(request), instance=unit, facility=unit.facility)
    if request.method == "POST" and form.is_valid():
        services.unit_update(unit=unit, **form.cleaned_data)
        messages.success(request, f"Unit {unit.unit_number} is saved.")
        return redirect("facilities:unit_detail", pk=unit.pk)
    context = {"form": form, "facility": unit.facility, "unit": unit}
    return render(request, "facilities/unit_form.html", context)


def _unit_queryset():
    return Unit.objects.select_related("facility__account", "lock")


def tenant_notice_actions(membership: Membership, lock: Lock | None) -> dict:
    """What the unit and lock pages offer for the tenant's code: Release overlock (a member who
    may set the lock Returned to Dropbox) and Send code to new tenant (who may change it)."""
    if lock is None or lock.unit_id is None:
        return {"release_form": None, "notice_channels": [], "can_notify_new_tenant": False}
    releasable = lock.status == LockStatus.ASSIGNED_OVERLOCK and membership.can_change_lock(
        lock, to_status=LockStatus.RETURNED_TO_DROPBOX
    )
    return {
        "release_form": LockReleaseForm(lock=lock) if releasable else None,
        "notice_channels": notices.unit_channels(lock.unit),
        "can_notify_new_tenant": membership.can_change_lock(lock),
    }


def unit_page(request: HttpRequest, unit: Unit, *, assign_form=None) -> HttpResponse:
    """The unit page, with a bound assign form when a POST to it was invalid."""
    lock = getattr(unit, "lock", None)
    available = (
        Lock.objects.for_membership(request.membership)
        .filter(facility=unit.facility, status=LockStatus.AVAILABLE, unit__isnull=True)
        .order_by("serial")
        .values_list("serial", flat=True)[:200]
    )
    events = (
        LockEvent.objects.for_membership(request.membership)
        .filter(unit=unit)
        .with_actors()
        .select_related("lock")[:20]
    )
    context = {
        "unit": unit,
        "facility": unit.facility,
        "lock": lock,
        "assign_form": assign_form or UnitAssignLockForm(unit=unit, membership=request.membership),
        **tenant_notice_actions(request.membership, lock),
        "available_serials": available,
        "events": events,
    }
    return render(request, "facilities/unit_detail.html", context)


@require_safe
@account_required()
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_member_object_or_404(_unit_queryset(), request.membership, pk=pk)
    return unit_page(request, unit)


# --- Search -----------------------------------------------------------------------------------


@require_safe
@account_required()
def search(request: HttpRequest) -> HttpResponse:
    """The top search: a serial or unit number across the account's facilities.

    One exact hit (the serial read off a lock) opens it directly.
    """
    form = SearchForm(request.GET)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    units = locks = []
    if q:
        units = list(
            Unit.objects.for_membership(request.membership)
            .filter(unit_number__icontains=q)
            .select_related("facility", "lock")
            .order_by("unit_number", "facility__name")[:SEARCH_LIMIT]
        )
        locks = list(
            Lock.objects.for_membership(request.membership)
            .filter(serial__icontains=q)
            .select_related("facility", "unit")
            .order_by("serial")[:SEARCH_LIMIT]
        )
        exact = [lock for lock in locks if lock.serial == q.upper()]
        if len(exact) == 1:
            return redirect("facilities:lock_detail", pk=exact[0].pk)
    context = {"q": q, "form": form, "units": units, "locks": locks, "limit": SEARCH_LIMIT}
    return render(request, "facilities/search.html", context)
