"""Integrations → Webhooks: the account's endpoints, each with its settings, signing secret,
test event and delivery log. Owners and Client Admins, each within their facilities; another
account's endpoints, and those naming facilities outside the member's, are 404s."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from davinci.accounts.decorators import (
    account_required,
    get_member_object_or_404,
    recently_confirmed,
)
from davinci.accounts.permissions import MANAGES_WEBHOOKS
from davinci.compression import uncompressed
from davinci.net import client_ip
from webhooks import services
from webhooks.forms import EndpointForm, RollSecretForm
from webhooks.models import Attempt, Delivery, Endpoint

ENDPOINTS_PER_PAGE = 25
LOG_PER_PAGE = 50
# Set for one endpoint right after it is added: its page then shows the secret, once.
JUST_CREATED = "webhook_endpoint_just_created"


def _endpoints(request: HttpRequest):
    return Endpoint.objects.for_membership(request.membership).not_deleted()


def _get_endpoint(request: HttpRequest, pk: int) -> Endpoint:
    return get_member_object_or_404(
        _endpoints(request).select_related("account", "created_by", "disabled_by"),
        request.membership,
        pk=pk,
    )


@require_GET
@account_required(*MANAGES_WEBHOOKS)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    # An account has at most services.MAX_ENDPOINTS: one page, no paginator.
    endpoints = _endpoints(request).order_by("-created_at", "-id")[: services.MAX_ENDPOINTS]
    return render(request, "webhooks/endpoint_list.html", {"endpoints": endpoints})


@require_http_methods(["GET", "POST"])
@account_required(*MANAGES_WEBHOOKS)
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(
        request.POST if request.method == "POST" else None,
        account=request.account,
        membership=request.membership,
    )
    if form.is_bound and form.is_valid():
        try:
            created = services.endpoint_create(
                account=request.account,
                **form.service_kwargs(),
                membership=request.membership,
                actor=request.user,
                ip=client_ip(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            request.session[JUST_CREATED] = created.endpoint.pk
            messages.success(request, "Endpoint added. Copy its signing secret now.")
            return redirect("webhooks:endpoint_detail", pk=created.endpoint.pk)
    return render(request, "webhooks/endpoint_create.html", {"form": form})


def _detail(request: HttpRequest, endpoint: Endpoint, **extra: Any) -> HttpResponse:
    context = {
        "endpoint": endpoint,
        "form": EndpointForm.for_endpoint(endpoint, membership=request.membership),
        "recent": _log_rows(endpoint, Attempt.objects.filter(endpoint=endpoint)[:5]),
        **extra,
    }
    return render(request, "webhooks/endpoint_detail.html", context)


@sensitive_variables()
@uncompressed
@never_cache
@require_http_methods(["GET", "POST"])
@account_required(*MANAGES_WEBHOOKS)
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The endpoint's settings, and right after it was added its signing secret, once."""
    endpoint = _get_endpoint(request, pk)
    if request.method == "POST":
        form = EndpointForm.for_endpoint(endpoint, request.POST, membership=request.membership)
        if form.is_bound and form.is_valid():
            try:
                changed = services.endpoint_update(
                    endpoint=endpoint,
                    **form.service_kwargs(),
                    membership=request.membership,
                    actor=request.user,
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Changes saved." if changed else "Nothing to change.")
                return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
        return _detail(request, endpoint, form=form)
    shown = None
    if request.session.get(JUST_CREATED) == endpoint.pk:
        del request.session[JUST_CREATED]
        shown = endpoint.secret()
    return _detail(request, endpoint, revealed_secret=shown, just_created=shown is not None)


def _show_secret_prompt(request: HttpRequest, confirm_form, pk: int) -> HttpResponse:
    return _detail(request, _get_endpoint(request, pk), confirm_form=confirm_form)


@sensitive_variables()
@sensitive_post_parameters("password", "code")
@uncompressed
@never_cache
@require_POST
@account_required(*MANAGES_WEBHOOKS)
@recently_confirmed(prompt=_show_secret_prompt)
def endpoint_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Show Secret": once the user confirmed it is them in the last 10 minutes."""
    endpoint = _get_endpoint(request, pk)
    secret = services.endpoint_reveal(endpoint=endpoint, actor=request.user, ip=client_ip(request))
    return _detail(request, endpoint, revealed_secret=secret)


@require_http_methods(["GET", "POST"])
@account_required(*MANAGES_WEBHOOKS)
def endpoint_roll(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _get_endpoint(request, pk)
    form = RollSecretForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        keep = form.cleaned_data["keep_previous"]
        services.endpoint_roll(
            endpoint=endpoint, keep_previous=keep, actor=request.user, ip=client_ip(request)
        )
        when = (
            "The old secret signs too for 24 hours." if keep else "The old secret stopped signing."
        )
        messages.success(request, f"New signing secret created. {when} Click “Show Secret”.")
        return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
    return render(request, "webhooks/endpoint_roll.html", {"endpoint": endpoint, "form": form})


@require_POST
@account_required(*MANAGES_WEBHOOKS)
def endpoint_disable(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _get_endpoint(request, pk)
    if services.endpoint_disable(endpoint=endpoint, actor=request.user, ip=client_ip(request)):
        messages.warning(request, "The endpoint is disabled: no events are sent to it now.")
    else:
        messages.info(request, "The endpoint was already disabled.")
    return redirect("webhooks:endpoint_detail", pk=endpoint.pk)


@require_POST
@account_required(*MANAGES_WEBHOOKS)
def endpoint_enable(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _get_endpoint(request, pk)
    if services.endpoint_enable(endpoint=endpoint, actor=request.user, ip=client_ip(request)):
        messages.success(request, "The endpoint is enabled: events are sent to it again.")
    else:
        messages.info(request, "The endpoint was already enabled.")
    return redirect("webhooks:endpoint_detail", pk=endpoint.pk)


@require_http_methods(["GET", "POST"])
@account_required(*MANAGES_WEBHOOKS)
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _get_endpoint(request, pk)
    if request.method == "POST":
        services.endpoint_delete(endpoint=endpoint, actor=request.user, ip=client_ip(request))
        messages.success(request, f"The endpoint {endpoint.url} is deleted.")
        return redirect("webhooks:endpoint_list")
    return render(request, "webhooks/endpoint_delete.html", {"endpoint": endpoint})


@require_POST
@account_required(*MANAGES_WEBHOOKS)
def endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _get_endpoint(request, pk)
    try:
        services.endpoint_test_send(endpoint=endpoint)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request, "Test event queued: it is sent in a moment. Its delivery shows below."
        )
    return redirect("webhooks:endpoint_log", pk=endpoint.pk)


def _log_rows(endpoint: Endpoint, attempts) -> list[Attempt]:
    """The attempts with their delivery and event, and `next_retry` on the latest attempt of
    a delivery still waiting."""
    rows = list(attempts.select_related("delivery__event"))
    for row in rows:
        waiting = row.delivery.status == Delivery.Status.PENDING
        latest = row.number == row.delivery.attempts
        row.next_retry = endpoint.retry_at if waiting and latest else None
        row.waiting = waiting and latest
    return rows


@require_GET
@account_required(*MANAGES_WEBHOOKS)
def endpoint_log(request: HttpRequest, pk: int) -> HttpResponse:
    """The delivery log, newest first, paged by id (`?before=`): no COUNT, however long."""
    endpoint = _get_endpoint(request, pk)
    attempts = Attempt.objects.filter(endpoint=endpoint).order_by("-id")
    before = request.GET.get("before", "")
    if before.isdigit() and len(before) < 19:
        attempts = attempts.filter(id__lt=int(before))
    rows = _log_rows(endpoint, attempts[: LOG_PER_PAGE + 1])
    older = rows[LOG_PER_PAGE - 1].pk if len(rows) > LOG_PER_PAGE else None
    waiting = Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.PENDING)
    context = {
        "endpoint": endpoint,
        "rows": rows[:LOG_PER_PAGE],
        "older": older,
        "paged": bool(before),
        "waiting": waiting.filter(attempts=0)[:100].count(),
        "kept_days": settings.WEBHOOKS_LOG_RETENTION_DAYS,
    }
    return render(request, "webhooks/endpoint_log.html", context)


@require_POST
@account_required(*MANAGES_WEBHOOKS)
def endpoint_resend(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _get_endpoint(request, pk)
    delivery_id = request.POST.get("delivery", "")
    if not delivery_id.isdigit() or len(delivery_id) > 18:
        messages.error(request, "Choose a delivery to resend.")
        return redirect("webhooks:endpoint_log", pk=endpoint.pk)
    delivery = get_object_or_404(
        Delivery.objects.select_related("event", "endpoint"), endpoint=endpoint, pk=delivery_id
    )
    try:
        services.delivery_resend(delivery=delivery)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"{delivery.event.type} queued again: it is sent in a moment.")
    return redirect("webhooks:endpoint_log", pk=endpoint.pk)
