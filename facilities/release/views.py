"""The public overlock-release page (/release/<account-slug>/) and its activity list in the
portal. The rules live in facilities/release/services.py."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from davinci import sms
from davinci.accounts.decorators import account_required
from davinci.accounts.models import Account
from davinci.accounts.permissions import MANAGES_INTEGRATIONS
from davinci.net import client_ip
from davinci.outbox.after_response import RedirectThenDispatch
from facilities.models import ReleaseAttempt
from facilities.release.forms import (
    ReleaseForm,
    clean_find,
    facility_label,
    facility_matches,
)
from facilities.release.services import (
    release_attempt_record,
    release_code_send,
    release_search_limited,
)

ATTEMPTS_PER_PAGE = 50


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def release_page(request: HttpRequest, account_slug: str) -> HttpResponse:
    account = get_object_or_404(Account, slug=account_slug)
    find = request.GET.get("find") or request.POST.get("find")
    form = ReleaseForm(request.POST or None, account=account, find=find)
    if request.method == "POST" and form.is_valid():
        contact = form.cleaned_data["contact"]
        attempt = release_attempt_record(
            account=account,
            facility=form.cleaned_data["facility"],
            unit_number=form.cleaned_data["unit_number"],
            contact=contact,
            ip=client_ip(request),
            honeypot_filled=bool(form.cleaned_data["website"]),
        )
        if attempt.outcome != ReleaseAttempt.Outcome.RATE_LIMITED:
            notice = release_code_send.queue(attempt_id=attempt.pk, dispatch=False)
            done = reverse("release:requested", args=[account.slug])
            # Every accepted attempt queued the same notice (the task decides whether a code
            # is due), handed on once the redirect is out and, in-process, off this thread:
            # neither the answer, its timing nor the connection tells whether one was sent.
            return RedirectThenDispatch(
                f"{done}?{urlencode({'by': contact.channel})}", notice=notice
            )
        return _too_many_attempts(request, account, form)
    if form.find and release_search_limited(ip=client_ip(request)):
        form.find = ""
        context = {**_context(account, form), "search_refused": _too_many_searches()}
        return _retry_later(render(request, "release/release_page.html", context, status=429))
    return render(request, "release/release_page.html", _context(account, form))


def _too_many_attempts(request: HttpRequest, account: Account, form: ReleaseForm) -> HttpResponse:
    window = settings.RELEASE_RATE_LIMIT_WINDOW
    form.add_error(
        None,
        f"Too many attempts. Please wait {_in_words(window)} before trying again, "
        "or call your facility.",
    )
    return _retry_later(
        render(request, "release/release_page.html", _context(account, form), status=429)
    )


def _too_many_searches() -> str:
    window = _in_words(settings.RELEASE_RATE_LIMIT_WINDOW)
    return f"Too many searches. Please wait {window}, or call your facility."


def _retry_later(response: HttpResponse) -> HttpResponse:
    response["Retry-After"] = str(settings.RELEASE_RATE_LIMIT_WINDOW)
    return response


def _in_words(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    if minutes % 60 == 0:
        return "an hour" if minutes == 60 else f"{minutes // 60} hours"
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def _context(account: Account, form: ReleaseForm) -> dict:
    return {
        "account": account,
        "form": form,
        "has_facilities": form.offer_facilities(),
        "sms_enabled": sms.sms_enabled(),
    }


@login_not_required
@never_cache
@require_safe
def release_requested(request: HttpRequest, account_slug: str) -> HttpResponse:
    account = get_object_or_404(Account, slug=account_slug)
    by_sms = request.GET.get("by") == ReleaseAttempt.Channel.SMS
    return render(request, "release/requested.html", {"account": account, "by_sms": by_sms})


@login_not_required
@never_cache
@require_safe
def release_facility_search(request: HttpRequest, account_slug: str) -> JsonResponse:
    """The page's facility search as you type (static/js/release.js): the same bounded
    matches the page shows for `?find=`, only facilities included in the API."""
    account = get_object_or_404(Account, slug=account_slug)
    find = clean_find(request.GET.get("find"))
    if find and release_search_limited(ip=client_ip(request)):
        refused = {"error": "too_many_searches", "message": _too_many_searches()}
        return _retry_later(JsonResponse(refused, status=429))
    matches, more = facility_matches(account, find)
    results = [{"facility_id": f.facility_id, "label": facility_label(f)} for f in matches]
    return JsonResponse({"results": results, "more": more})


@account_required(*MANAGES_INTEGRATIONS)
@require_safe
def release_activity(request: HttpRequest) -> HttpResponse:
    attempts = (
        ReleaseAttempt.objects.for_membership(request.membership)
        .select_related("facility", "unit", "lock")
        .order_by("-created_at", "-id")
    )
    page = Paginator(attempts, ATTEMPTS_PER_PAGE).get_page(request.GET.get("page"))
    public_url = request.build_absolute_uri(reverse("release:page", args=[request.account.slug]))
    return render(request, "release/activity.html", {"page": page, "public_url": public_url})
