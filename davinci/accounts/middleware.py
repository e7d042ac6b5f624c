from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from davinci.accounts.models import Membership
from davinci.accounts.two_factor.services import has_two_factor

SESSION_KEY = "current_account_id"


def current_membership(request: HttpRequest) -> Membership | None:
    """The active membership chosen in the account switcher (kept in the session), else the
    first active one. An inactive membership, or an invitation not accepted, is never
    current: the user cannot use it."""
    if not request.user.is_authenticated:
        return None
    memberships = (
        Membership.objects.accepted()
        .filter(user=request.user, is_active=True)
        .select_related("account")
    )
    wanted = request.session.get(SESSION_KEY)
    if wanted is not None:
        chosen = memberships.filter(account_id=wanted).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("account__name", "account_id").first()


def only_inactive_memberships(user) -> bool:
    """A member set Inactive in every account they belong to (platform staff aside).
    Invitations do not count: a user with one still signs in, to answer it."""
    if user.is_staff:
        return False
    memberships = Membership.objects.accepted().filter(user=user)
    return memberships.exists() and not memberships.filter(is_active=True).exists()


class CurrentAccountMiddleware:
    """Sets `request.membership` and `request.account`: the one place a portal request learns
    its account. Anonymous requests (the API, the release page) cost no query.

    A user whose every membership was set Inactive is signed out on their next request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = current_membership(request)
        request.account = request.membership.account if request.membership else None
        if (
            request.membership is None
            and request.user.is_authenticated
            and only_inactive_memberships(request.user)
        ):
            logout(request)
            # (Messages are not set up yet at this point of the chain: the page says it.)
            return redirect(reverse("accounts:login") + "?inactive=1")
        return self.get_response(request)


class TwoFactorPolicyMiddleware:
    """An account whose owner requires two-factor: a member without it is sent to set it up
    at their next request, and reaches nothing else (but signing out) until then. Public
    views (the sign-in, the release page: `login_not_required`) are not concerned, nor is
    the API: it reads no cookie, so no one is signed in there (integrations/api/errors.py)."""

    ALLOWED = ("accounts:two_factor_setup", "accounts:logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        account = getattr(request, "account", None)
        if (
            account is None
            or not account.two_factor_required
            or not getattr(view_func, "login_required", True)
            or request.path in {reverse(name) for name in self.ALLOWED}
            or has_two_factor(request.user)
        ):
            return None
        return redirect("accounts:two_factor_setup")


class AccountTimeZoneMiddleware:
    """Portal pages run in the current account's time zone (Account.time_zone), so every
    time they show (the `when` filter, davinci/when.py) is on the account's clock. Without an
    account (sign-in, the API, the release page): settings.TIME_ZONE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        account = getattr(request, "account", None)
        if account is not None:
            timezone.activate(account.zoneinfo)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
