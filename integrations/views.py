"""The Integrations tabs: "API Settings" (API keys), "Facilities" (Facility ID and Include in
API) and "Activity". Owners and Client Admins only, each within their facility access;
another account's objects, and those outside the member's facilities, are 404s."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from davinci import when as formats
from davinci.accounts.decorators import (
    account_required,
    get_member_object_or_404,
    recently_confirmed,
)
from davinci.accounts.permissions import MANAGES_INTEGRATIONS
from davinci.compression import uncompressed
from davinci.net import client_ip, next_path
from facilities.models import Facility
from integrations import services, usage
from integrations.activity import activity_visible_to
from integrations.forms import ApiKeyForm, IncludeInApiForm, RollSecretForm
from integrations.models import ApiKey

KEYS_PER_PAGE = 25
FACILITIES_PER_PAGE = 50
EVENTS_PER_PAGE = 50


def _keys(request: HttpRequest):
    return ApiKey.objects.for_membership(request.membership).not_deleted()


def _get_key(request: HttpRequest, pk: int) -> ApiKey:
    return get_member_object_or_404(
        _keys(request).select_related("account", "created_by", "disabled_by"),
        request.membership,
        pk=pk,
    )


def _detail_context(api_key: ApiKey, **extra: Any) -> dict[str, Any]:
    scope = api_key.facilities_in_scope()
    if api_key.all_facilities:
        excluded = Facility.objects.for_account(api_key.account).filter(include_in_api=False)
    else:
        excluded = api_key.facilities.filter(include_in_api=False)
    return {
        "key": api_key,
        "scope_count": scope.count(),
        "excluded_names": list(excluded.order_by("name").values_list("name", flat=True)[:6]),
        **extra,
    }


def _warn_if_reads_nothing(request: HttpRequest, api_key: ApiKey) -> None:
    """A key whose scope is empty works but reads nothing (e.g. its only facilities are out
    of the API): say so when it is saved, and why."""
    if api_key.facilities_in_scope().exists():
        return
    if api_key.all_facilities:
        chosen = Facility.objects.for_account(api_key.account)
    else:
        chosen = api_key.facilities.all()
    excluded = list(
        chosen.filter(include_in_api=False).order_by("name").values_list("name", flat=True)[:4]
    )
    if excluded:
        names = ", ".join(excluded[:3]) + (" and more" if len(excluded) > 3 else "")
        why = f"Include in API is off for {names}"
    else:
        why = "the account has no facility yet"
    messages.warning(
        request,
        f"“{api_key.name}” can read no facility right now: {why}. Every lookup with it "
        "answers 404 until a facility it may read is included in the API (Facilities tab).",
    )


@require_GET
@account_required(*MANAGES_INTEGRATIONS)
def api_settings(request: HttpRequest) -> HttpResponse:
    keys = _keys(request).with_facility_summary(request.account).order_by("-created_at", "-id")
    page = Paginator(keys, KEYS_PER_PAGE).get_page(request.GET.get("page"))
    # The numbers of the page's keys only, once the page is known: the paginator's COUNT
    # stays a count of keys.
    page.object_list = usage.with_list_usage(list(page.object_list))
    return render(request, "integrations/api_settings.html", {"page": page})


@require_http_methods(["GET", "POST"])
@account_required(*MANAGES_INTEGRATIONS)
def api_key_create(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(
        request.POST if request.method == "POST" else None,
        account=request.account,
        membership=request.membership,
    )
    if form.is_bound and form.is_valid():
        try:
            created = services.api_key_create(
                account=request.account,
                **form.service_kwargs(),
                membership=request.membership,
                actor=request.user,
                ip=client_ip(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"API key “{created.api_key.name}” created. Click it in the list to see its "
                "API Secret.",
            )
            _warn_if_reads_nothing(request, created.api_key)
            return redirect("integrations:api_settings")
    return render(request, "integrations/api_key_create.html", {"form": form})


@require_http_methods(["GET", "POST"])
@account_required(*MANAGES_INTEGRATIONS)
def api_key_detail(request: HttpRequest, pk: int) -> HttpResponse:
    api_key = _get_key(request, pk)
    data = request.POST if request.method == "POST" else None
    form = ApiKeyForm.for_key(api_key, data, membership=request.membership)
    if form.is_bound and form.is_valid():
        try:
            changed = services.api_key_update(
                api_key=api_key,
                **form.service_kwargs(),
                membership=request.membership,
                actor=request.user,
                ip=client_ip(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Changes saved." if changed else "Nothing to change.")
            _warn_if_reads_nothing(request, api_key)
            return redirect("integrations:api_key_detail", pk=api_key.pk)
    return render(request, "integrations/api_key_detail.html", _detail_context(api_key, form=form))


def _show_key_prompt(request: HttpRequest, confirm_form, pk: int) -> HttpResponse:
    """The confirmation asked inline on the key's page, under the masked secret."""
    api_key = _get_key(request, pk)
    form = ApiKeyForm.for_key(api_key, membership=request.membership)
    context = _detail_context(api_key, form=form, confirm_form=confirm_form)
    return render(request, "integrations/api_key_detail.html", context)


@sensitive_variables()
@sensitive_post_parameters("password", "code")
@uncompressed
@never_cache
@require_POST
@account_required(*MANAGES_INTEGRATIONS)
@recently_confirmed(prompt=_show_key_prompt)
def api_key_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Show Key": the secret, once the user confirmed it is them in the last 10 minutes."""
    api_key = _get_key(request, pk)
    context = _detail_context(
        api_key, form=ApiKeyForm.for_key(api_key, membership=request.membership)
    )
    context["revealed_secret"] = services.api_key_reveal(
        api_key=api_key, actor=request.user, ip=client_ip(request)
    )
    return render(request, "integrations/api_key_detail.html", context)


@require_POST
@account_required(*MANAGES_INTEGRATIONS)
def api_key_disable(request: HttpRequest, pk: int) -> HttpResponse:
    api_key = _get_key(request, pk)
    if services.api_key_disable(api_key=api_key, actor=request.user, ip=client_ip(request)):
        # Done as asked, but the key now refuses every request: not a success in green.
        messages.warning(
            request, f"“{api_key.name}” is disabled: every API request with it is refused now."
        )
    else:
        messages.info(request, f"“{api_key.name}” was already disabled.")
    return redirect("integrations:api_key_detail", pk=api_key.pk)


@require_POST
@account_required(*MANAGES_INTEGRATIONS)
def api_key_enable(request: HttpRequest, pk: int) -> HttpResponse:
    api_key = _get_key(request, pk)
    if services.api_key_enable(api_key=api_key, actor=request.user, ip=client_ip(request)):
        messages.success(request, f"“{api_key.name}” is enabled again. The owners were told.")
    else:
        messages.info(request, f"“{api_key.name}” was already enabled.")
    return redirect("integrations:api_key_detail", pk=api_key.pk)


@require_http_methods(["GET", "POST"])
@account_required(*MANAGES_INTEGRATIONS)
def api_key_roll(request: HttpRequest, pk: int) -> HttpResponse:
    api_key = _get_key(request, pk)
    form = RollSecretForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        services.api_key_roll(
            api_key=api_key, grace=form.grace(), actor=request.user, ip=client_ip(request)
        )
        when = (
            "The old secret stopped working."
            if not form.grace()
            else "The old secret keeps working until "
            f"{formats.when(api_key.previous_secret_expires_at)}."
        )
        messages.success(
            request, f"New API Secret created. {when} Click “Show Key” to copy the new one."
        )
        return redirect("integrations:api_key_detail", pk=api_key.pk)
    return render(request, "integrations/api_key_roll.html", {"key": api_key, "form": form})


@require_http_methods(["GET", "POST"])
@account_required(*MANAGES_INTEGRATIONS)
def api_key_delete(request: HttpRequest, pk: int) -> HttpResponse:
    api_key = _get_key(request, pk)
    if request.method == "POST":
        services.api_key_delete(api_key=api_key, actor=request.user, ip=client_ip(request))
        messages.success(
            request, f"“{api_key.name}” is deleted. Its history stays in the Activity tab."
        )
        return redirect("integrations:api_settings")
    return render(request, "integrations/api_key_delete.html", {"key": api_key})


@require_GET
@account_required(*MANAGES_INTEGRATIONS)
def facility_list(request: HttpRequest) -> HttpResponse:
    # PostgreSQL refuses NUL characters in text: drop them rather than fail the search.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    facilities = Facility.objects.for_membership(request.membership).order_by("name", "id")
    if query:
        facilities = facilities.filter(
            Q(name__icontains=query) | Q(facility_id__iexact=query) | Q(address__icontains=query)
        )
    page = Paginator(facilities, FACILITIES_PER_PAGE).get_page(request.GET.get("page"))
    release_path = reverse("release:page", args=[request.account.slug])
    return render(
        request,
        "integrations/facility_list.html",
        {
            "page": page,
            "query": query,
            "query_string": urlencode({"q": query}) if query else "",
            "release_url": request.build_absolute_uri(release_path),
        },
    )


@require_POST
@account_required(*MANAGES_INTEGRATIONS)
def facility_include(request: HttpRequest, facility_id: str) -> HttpResponse:
    facility = get_member_object_or_404(
        Facility.objects.select_related("account"), request.membership, facility_id=facility_id
    )
    form = IncludeInApiForm(request.POST)
    form.is_valid()  # a lone optional checkbox: absent means off, so it is always valid
    include = form.cleaned_data["include_in_api"]
    if services.facility_set_included(
        facility=facility, include_in_api=include, actor=request.user, ip=client_ip(request)
    ):
        if include:
            messages.success(request, f"{facility.name} is included in the API again.")
        else:
            messages.success(
                request,
                f"{facility.name} is excluded from the API: no API key can read it and it is "
                "off the overlock-release page.",
            )
    return redirect(next_path(request, default=reverse("integrations:facility_list")))


@require_GET
@account_required(*MANAGES_INTEGRATIONS)
def activity(request: HttpRequest) -> HttpResponse:
    events = (
        activity_visible_to(request.membership)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "integrations/activity.html", {"page": page})
