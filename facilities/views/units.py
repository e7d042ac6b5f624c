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
from facilities.querysets import CONTAINS_MIN_LENGTH
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

    A whole serial (read off a lock) opens its lock directly. Otherwise the locks and units
    that match, at most SEARCH_LIMIT of each: the cost of a search is the matches it reads
    through an index (querysets: serial_matching, number_matching), not the account's size.
    """
    form = SearchForm(request.GET)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    units = locks = []
    if q:
        locks = list(
            Lock.objects.for_membership(request.membership)
            .serial_matching(q)
            .select_related("facility", "unit")
            .order_by("serial")[:SEARCH_LIMIT]
        )
        if len(locks) == 1 and locks[0].serial == q.upper():
            return redirect("facilities:lock_detail", pk=locks[0].pk)
        matching = Unit.objects.for_membership(request.membership).number_matching(q)
        # The first SEARCH_LIMIT chosen before their locks are joined: a number such as A101
        # is on a unit of every facility, and joining each one's lock costs more than the
        # search itself.
        units = list(
            matching.filter(pk__in=matching.values("pk")[:SEARCH_LIMIT]).select_related(
                "facility", "lock"
            )
        )
    context = {
        "q": q,
        "form": form,
        "units": units,
        "locks": locks,
        "limit": SEARCH_LIMIT,
        "whole_only": len(q) < CONTAINS_MIN_LENGTH,
    }
    return render(request, "facilities/search.html", context)
