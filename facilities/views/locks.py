"""A lock's page and its actions: reveal the code, assign, change status, unassign, set code.

Each action is a POST that calls one service (which writes the lock's one LockEvent), then
redirects; an invalid form re-renders the lock page with the error next to the action. What
a member may do to a lock is davinci/accounts/permissions.py's answer for their role: a
change their role may not make is a 403 with the reason.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from davinci.accounts import permissions
from davinci.accounts.decorators import (
    account_required,
    confirm_page,
    get_member_object_or_404,
    recently_confirmed,
)
from davinci.compression import uncompressed
from davinci.forms import add_service_error, posted
from davinci.net import client_ip, next_path
from facilities import notices, services
from facilities.forms import (
    LockAssignForm,
    LockCodeForm,
    LockCreateForm,
    LockReleaseForm,
    LockStatusForm,
    LockUnassignForm,
    UnitAssignLockForm,
)
from facilities.history import Actor
from facilities.models import Facility, Lock, LockStatus, Unit
from facilities.views.common import changes_locks
from facilities.views.facilities import LIST_PAGES
from facilities.views.units import tenant_notice_actions, unit_page

HISTORY_PER_PAGE = 50


def _locks():
    return Lock.objects.select_related("facility", "unit")


def lock_page(
    request: HttpRequest, lock: Lock, *, revealed_code: str = "", **forms
) -> HttpResponse:
    """The lock page; `forms` replaces the blank form of the action that was just posted."""
    history = lock.events.with_actors().order_by("-created_at", "-id")
    membership = request.membership
    context = {
        "lock": lock,
        "facility": lock.facility,
        "code_readable": permissions.can_view_code(membership.role, lock.status),
        "lock_editable": permissions.can_change_lock(membership.role, lock.status),
        "revealed_code": revealed_code,
        "history": Paginator(history, HISTORY_PER_PAGE).get_page(request.GET.get("page")),
        "status_form": LockStatusForm(lock=lock, membership=membership),
        "unassign_form": LockUnassignForm(lock=lock, membership=membership),
        **tenant_notice_actions(membership, lock),
        "assign_form": LockAssignForm(lock=lock),
        "code_form": LockCodeForm(instance=lock),
        **forms,
        "error_summary": [error for form in forms.values() for error in _error_lines(form)],
    }
    return render(request, "facilities/lock_detail.html", context)


def _error_lines(form) -> list[str]:
    """The form's errors as sentences, for the summary at the top of the page (the form
    itself may not be on the page any more, e.g. the lock changed in another tab)."""
    lines = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        prefix = f"{field.label}: " if field is not None and field.label else ""
        lines += [f"{prefix}{error}" for error in errors]
    return lines


def _refuse_unless(request: HttpRequest, lock: Lock, *, to_status: str | None = None) -> None:
    """403 with the reason when the member's role may not make this change to `lock`.

    `to_status` None: a change that keeps the status (set code, assign). A posted status
    that is no status at all (or none) asks only whether the member may change the lock in
    some way; the form then names the mistake.
    """
    role = request.membership.role
    if to_status is not None and to_status not in LockStatus.values:
        if permissions.can_change_lock_somehow(role, lock.status):
            return
        to_status = None
    elif permissions.can_change_lock(role, lock.status, to_status=to_status):
        return
    label = permissions.role_label(role)
    if not permissions.can_view_code(role, lock.status):
        reason = f"A {label} cannot change a lock that is {lock.get_status_display()}."
    elif to_status is not None:
        reason = f"A {label} cannot set a lock to {LockStatus(to_status).label}."
    else:
        reason = f"A {label} cannot change this lock."
    raise PermissionDenied(reason)


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, ip=client_ip(request))


def _posted_status(request: HttpRequest) -> str:
    return request.POST.get("status", "")


@require_safe
@account_required()
def lock_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lock = get_member_object_or_404(_locks(), request.membership, pk=pk)
    return lock_page(request, lock)


def _reveal_prompt(request: HttpRequest, confirm_form, pk: int) -> HttpResponse:
    """Another account's lock is a 404, and a code the role may not see a 403, before
    anything is asked."""
    lock = get_member_object_or_404(_locks(), request.membership, pk=pk)
    if not permissions.can_view_code(request.membership.role, lock.status):
        raise PermissionDenied(
            services.lock_code_withheld(lock=lock, membership=request.membership)
        )
    why = "The code of a lock is shown only to someone who confirmed it is them lately"
    return confirm_page(request, confirm_form, why=why)


def _list_in_place(request: HttpRequest, lock: Lock) -> tuple | None:
    """The Units or Locks tab of the lock's facility that the POSTed `next` names, as (the
    function that draws it, its query string); None for anything else."""
    wanted = urlsplit(next_path(request, default=""))
    try:
        match = resolve(wanted.path) if wanted.path else None
    except Resolver404:
        return None
    if match is None or match.namespace != "facilities":
        return None
    draw = LIST_PAGES.get(match.url_name)
    if draw is None or match.kwargs.get("pk") != lock.facility_id:
        return None
    return draw, QueryDict(wanted.query)


@sensitive_variables()  # the code: never in an error report
@sensitive_post_parameters("password", "code")
@uncompressed
@never_cache
@require_POST
@account_required()
@recently_confirmed(prompt=_reveal_prompt)
def lock_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the code once, in this response only (no-store), and record who saw it.

    Posted from a facility's Units or Locks tab (`next` is that list with its filter and
    page), the answer is that list again with the code in the lock's row; otherwise it is
    the lock page. No JavaScript needed either way.
    """
    lock = get_member_object_or_404(_locks(), request.membership, pk=pk)
    in_place = _list_in_place(request, lock)
    code = services.lock_code_reveal(
        lock=lock, user=request.user, membership=request.membership, ip=client_ip(request)
    )
    if in_place is None:
        return lock_page(request, lock, revealed_code=code)
    draw, params = in_place
    facility = get_member_object_or_404(
        Facility.objects.with_counts(), request.membership, pk=lock.facility_id
    )
    return draw(request, facility, params, revealed={"lock_id": lock.pk, "code": code})


@sensitive_variables()  # the code, in this view and every frame below it
@sensitive_post_parameters("unlock_code")
@require_http_methods(["GET", "POST"])
@changes_locks
def lock_create(request: HttpRequest, pk: int) -> HttpResponse:
    facility = get_member_object_or_404(Facility.objects, request.membership, pk=pk)
    form = LockCreateForm(posted(request), facility=facility)
    if request.method == "POST" and form.is_valid():
        if not permissions.can_create_lock(request.membership.role, form.cleaned_data["status"]):
            raise PermissionDenied("Your role cannot add a lock in this status.")
        lock = services.lock_create(
            facility=facility, **form.cleaned_data, user=request.user, ip=client_ip(request)
        )
        messages.success(request, f"Lock {lock.serial} is added to {facility.name}.")
        if "add_another" in request.POST:
            return redirect("facilities:lock_create", pk=facility.pk)
        return redirect("facilities:lock_detail", pk=lock.pk)
    return render(request, "facilities/lock_form.html", {"form": form, "facility": facility})


def _act(request: HttpRequest, lock: Lock, form, form_name: str, action) -> HttpResponse:
    """For a valid form, `action(**cleaned_data)` (which returns what to tell the user), then
    redirect; otherwise the lock page again with the errors next to that action."""
    if form.is_valid():
        try:
            done = action(**form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, done)
            return redirect("facilities:lock_detail", pk=lock.pk)
    return lock_page(request, lock, **{form_name: form})


@require_POST
@account_required()
def lock_status(request: HttpRequest, pk: int) -> HttpResponse:
    lock = get_member_object_or_404(_locks(), request.membership, pk=pk)
    _refuse_unless(request, lock, to_status=_posted_status(request))

    def change(status: str) -> str:
        services.lock_status_change(lock=lock, status=status, actor=_actor(request))
        return f"Lock {lock.serial} is now {LockStatus(status).label}."

    form = LockStatusForm(request.POST, lock=lock, membership=request.membership)
    return _act(request, lock, form, "status_form", change)


@require_POST
@account_required()
def lock_unassign(request: HttpRequest, pk: int) -> HttpResponse:
    lock = get_member_object_or_404(_locks(), request.membership, pk=pk)
    _refuse_unless(request, lock, to_status=_posted_status(request))

    def unassign(status: str, confirm_unreleased: bool = False) -> str:
        unit = lock.unit
        services.lock_unassign(lock=lock, status=status, user=request.user, ip=client_ip(request))
        where = f"unit {unit.unit_number}" if unit else "its unit"
        return f"Lock {lock.serial} is off {where}: {LockStatus(status).label}."

    form = LockUnassignForm(request.POST, lock=lock, membership=request.membership)
    return _act(request, lock, form, "unassign_form", unassign)


@require_POST
@changes_locks
def lock_assign(request: HttpRequest, pk: int) -> HttpResponse:
    lock = get_member_object_or_404(_locks(), request.membership, pk=pk)
    _refuse_unless(request, lock, to_status=_posted_status(request) or None)

    def assign(unit: Unit, status: str) -> str:
        services.lock_assign(
            lock=lock, unit=unit, status=status, user=request.user, ip=client_ip(request)
        )
        return f"Lock {lock.serial} is on unit {unit.unit_number}: {LockStatus(status).label}."

    return _act(request, lock, LockAssignForm(request.POST, lock=lock), "assign_form", assign)


def _notice_messages(request: HttpRequest, lock: Lock, channels: list, notice) -> None:
    """Where the notice goes; its outcome ("Code sent to tenant", or "Code could not be sent"
    after every retry) is in the lock's history once the outbox has sent it."""
    unit = lock.unit
    where = " and ".join(
        f"{unit.tenant_email} (email)" if channel == "email" else f"{unit.tenant_phone} (text)"
        for channel in channels
    )
    messages.success(
        request,
        f"The {notice.label} notice with the code is on its way to {where}. The lock's history "
        "shows each send, or why it failed.",
    )


@require_POST
@account_required()
def lock_release(request: HttpRequest, pk: int) -> HttpResponse:
    """Release overlock: the tenant has paid. The lock stays on the unit, Returned to Dropbox,
    and the tenant is sent their code when asked to (the notice is on by default). Every role
    that may set a lock Returned to Dropbox may release, the call center included."""
    lock = get_member_object_or_404(_locks(), request.membership, pk=pk)
    _refuse_unless(request, lock, to_status=LockStatus.RETURNED_TO_DROPBOX)
    form = LockReleaseForm(request.POST, lock=lock)
    if form.is_valid():
        try:
            lock = services.lock_release(lock=lock, actor=_actor(request))
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                f"The overlock on unit {lock.unit.unit_number} is released: lock {lock.serial} "
                "is Returned to Dropbox and stays on the unit.",
            )
            if form.cleaned_data["notify"]:
                notice = notices.Notice.DELINQUENCY_PAID
                channels = notices.tenant_notice_send(
                    lock=lock, notice=notice, actor=_actor(request)
                )
                _notice_messages(request, lock, channels, notice)
            return redirect(next_path(request, lock_url(lock)))
    return lock_page(request, lock, release_form=form)


@require_POST
@changes_locks
def lock_notify_new_tenant(request: HttpRequest, pk: int) -> HttpResponse:
    """Send code to new tenant: the vacant unit is rented; its tenant gets the code of the
    Assigned Vacant lock ("Unlock and New Rental" notice)."""
    lock = get_member_object_or_404(_locks(), request.membership, pk=pk)
    _refuse_unless(request, lock)
    notice = notices.Notice.NEW_RENTAL
    try:
        channels = notices.tenant_notice_send(lock=lock, notice=notice, actor=_actor(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        _notice_messages(request, lock, channels, notice)
    return redirect(next_path(request, lock_url(lock)))


def lock_url(lock: Lock) -> str:
    return reverse("facilities:lock_detail", args=[lock.pk])


@sensitive_variables()  # the new code, in this view and every frame below it
@sensitive_post_parameters("unlock_code")
@require_POST
@changes_locks
def lock_code(request: HttpRequest, pk: int) -> HttpResponse:
    lock = get_member_object_or_404(_locks(), request.membership, pk=pk)
    _refuse_unless(request, lock)

    def set_code(unlock_code: str) -> str:
        services.lock_code_set(
            lock=lock, unlock_code=unlock_code, user=request.user, ip=client_ip(request)
        )
        return f"The unlock code of {lock.serial} is changed."

    return _act(request, lock, LockCodeForm(request.POST, instance=lock), "code_form", set_code)


@require_POST
@changes_locks
def unit_assign_lock(request: HttpRequest, pk: int) -> HttpResponse:
    """From a unit's page: put one of the account's available locks on it."""
    unit = get_member_object_or_404(
        Unit.objects.select_related("facility__account", "lock"), request.membership, pk=pk
    )
    form = UnitAssignLockForm(request.POST, unit=unit, membership=request.membership)
    if form.is_valid():
        lock = form.cleaned_data["lock"]
        _refuse_unless(request, lock, to_status=form.cleaned_data["status"])
        try:
            services.lock_assign(
                lock=lock,
                unit=unit,
                status=form.cleaned_data["status"],
                user=request.user,
                ip=client_ip(request),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            status = LockStatus(form.cleaned_data["status"]).label
            messages.success(
                request, f"Lock {lock.serial} is on unit {unit.unit_number}: {status}."
            )
            return redirect("facilities:unit_detail", pk=unit.pk)
    return unit_page(request, unit, assign_form=form)
