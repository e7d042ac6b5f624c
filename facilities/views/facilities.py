"""The facilities list, a facility's form, and a facility's units and locks tabs."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from davinci.accounts import permissions
from davinci.accounts.decorators import account_required, get_member_object_or_404
from davinci.forms import posted
from facilities import services
from facilities.forms import FacilityForm, LockFilterForm, UnitFilterForm
from facilities.models import Facility, Lock, LockStatus
from facilities.views.common import PER_PAGE, edits_facilities, filtered_page


@require_safe
@account_required()
def facility_list(request: HttpRequest) -> HttpResponse:
    facilities = Facility.objects.for_membership(request.membership).order_by("name", "id")
    page = Paginator(facilities, PER_PAGE).get_page(request.GET.get("page"))
    # The page is chosen first and counted alone: PostgreSQL computes a row's count
    # subqueries for every row it skips to reach a page, so the last page of 3,000 facilities
    # would count them all.
    page.object_list = facilities.filter(pk__in=page.object_list.values("pk")).with_counts()
    context = {"page": page}
    if permissions.sees_lock_limit(request.membership.role):
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
    facility = get_member_object_or_404(Facility.objects.with_counts(), request.membership, pk=pk)
    return units_page(request, facility, request.GET)


def _list_paths(list_path: str, params: QueryDict) -> dict[str, str]:
    """Where the filter and the page links go (the list, also when a Reveal POST drew it), and
    the `next` each row's Reveal posts (the list as shown, filter and page kept)."""
    query = params.urlencode()
    return {"list_path": list_path, "reveal_next": f"{list_path}?{query}" if query else list_path}


def units_page(
    request: HttpRequest, facility: Facility, params: QueryDict, *, revealed: dict | None = None
) -> HttpResponse:
    """The facility's units with the lock on each door, filtered and paginated by `params`
    (the list's query string); `revealed` ({"lock_id", "code"}) shows one code in its row.

    A fixed number of queries whatever the size: the facility, the page count and one page
    of units joined to their locks.
    """
    form = UnitFilterForm(params)
    units = facility.units.with_lock().order_by("unit_number", "id")
    if form.is_valid():
        units = units.search(form.cleaned_data["q"]).with_lock_status(form.cleaned_data["status"])
    page, query_string = filtered_page(params, units, form)
    context = {
        "facility": facility,
        "form": form,
        "page": page,
        "query_string": query_string,
        **_list_paths(reverse("facilities:facility_detail", args=[facility.pk]), params),
        "revealed": revealed,
        "tab": "units",
    }
    return render(request, "facilities/facility_detail.html", context)


def _status_counts(facility: Facility) -> list[tuple[str, int]]:
    counts = facility.locks.status_counts()
    return [(status.label, counts[status]) for status in LockStatus if counts.get(status)]


@require_safe
@account_required()
def facility_locks(request: HttpRequest, pk: int) -> HttpResponse:
    facility = get_member_object_or_404(Facility.objects.with_counts(), request.membership, pk=pk)
    return locks_page(request, facility, request.GET)


def locks_page(
    request: HttpRequest, facility: Facility, params: QueryDict, *, revealed: dict | None = None
) -> HttpResponse:
    """Every lock of the facility, on a unit or not: the inventory (`params` and `revealed`
    as for `units_page`)."""
    form = LockFilterForm(params)
    locks = facility.locks.select_related("unit").order_by("serial")
    if form.is_valid():
        locks = locks.search(form.cleaned_data["q"])
        if form.cleaned_data["status"]:
            locks = locks.filter(status=form.cleaned_data["status"])
    page, query_string = filtered_page(params, locks, form)
    context = {
        "facility": facility,
        "form": form,
        "page": page,
        "query_string": query_string,
        **_list_paths(reverse("facilities:facility_locks", args=[facility.pk]), params),
        "revealed": revealed,
        "status_counts": _status_counts(facility),
        "tab": "locks",
    }
    return render(request, "facilities/facility_locks.html", context)


# The lists a Reveal may answer in place: URL name -> the page that draws it.
LIST_PAGES = {"facility_detail": units_page, "facility_locks": locks_page}
