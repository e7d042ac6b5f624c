"""A unit's form and page (its lock, the tenant's code, the history), and the top search."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from davinci.accounts import permissions
from davinci.accounts.decorators import account_required, get_member_object_or_404
from davinci.accounts.models import Membership
from davinci.forms import posted
from facilities import notices, services
from facilities.forms import LockReleaseForm, SearchForm, UnitAssignLockForm, UnitForm
from facilities.models import Facility, Lock, LockEvent, LockStatus, Unit
from facilities.views.common import changes_locks

SEARCH_LIMIT = 50


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
    releasable = lock.status == LockStatus.ASSIGNED_OVERLOCK and permissions.can_change_lock(
        membership.role, lock.status, to_status=LockStatus.RETURNED_TO_DROPBOX
    )
    return {
        "release_form": LockReleaseForm(lock=lock) if releasable else None,
        "notice_channels": notices.unit_channels(lock.unit),
        "can_notify_new_tenant": permissions.can_change_lock(membership.role, lock.status),
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
