"""The portal views' decorators: membership of the current account (and role), the scoped
fetches, and @recently_confirmed, which asks the user to confirm it is them before a view
that matters."""

import time
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache

from davinci.accounts.forms import ConfirmItsYouForm
from davinci.accounts.models import Account, Membership, Role
from davinci.net import client_ip

M = TypeVar("M", bound=Model)


def account_required(*roles: Role) -> Callable:
    """A portal view for members of the current account, optionally only for some roles.

    A user with no account, or with a role not listed, gets the 403 page with the reason;
    platform staff with no account are sent to the admin, where their work is.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            membership = request.membership
            if membership is None:
                if Membership.objects.invitations().filter(user=request.user).exists():
                    messages.info(
                        request,
                        "You are invited to an account: accept the invitation to start.",
                    )
                    return redirect("accounts:invitations")
                if request.user.is_staff:
                    messages.info(
                        request,
                        "You are not a member of any account, so the portal has nothing to "
                        "show you: accounts, users and facilities are managed here.",
                    )
                    return redirect("admin:index")
                raise PermissionDenied("You are not a member of any account yet.")
            if roles and membership.role not in roles:
                allowed = " and ".join(Role(role).label.lower() + "s" for role in roles)
                raise PermissionDenied(
                    f"Only {allowed} of {membership.account} can open this page."
                )
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def get_account_object_or_404(queryset: QuerySet[M], account: Account, **lookup) -> M:
    """Fetch an object of `account`; another account's object is a 404, never a 403."""
    return get_object_or_404(queryset.for_account(account), **lookup)


def get_member_object_or_404(queryset: QuerySet[M], membership: Membership, **lookup) -> M:
    """Fetch an object the member may see: of their account and of their facilities. An
    object outside either is a 404, like another account's."""
    return get_object_or_404(queryset.for_membership(membership), **lookup)


# --- Re-confirmation ("sudo mode") --------------------------------------------------------------

CONFIRMED_AT = "recently_confirmed_at"
# Marks a confirmation asked before a GET: once confirmed, the page is loaded again.
CONFIRM_THEN_GET = "confirm_then_get"
_CONFIRMATION_FIELDS = {"password", "code", CONFIRM_THEN_GET, "csrfmiddlewaretoken"}


def recently_confirmed_at(request: HttpRequest) -> float | None:
    value = request.session.get(CONFIRMED_AT)
    return value if isinstance(value, int | float) else None


def confirmation_recent(request: HttpRequest) -> bool:
    """Whether the user confirmed it is them (password or second factor) in the last
    RECONFIRM_SECONDS in this session."""
    confirmed_at = recently_confirmed_at(request)
    return confirmed_at is not None and 0 <= time.time() - confirmed_at < settings.RECONFIRM_SECONDS


def confirmation_record(request: HttpRequest) -> None:
    """The user just proved it is them (a confirmation, or signing in with both factors)."""
    request.session[CONFIRMED_AT] = time.time()


def recently_confirmed(
    view: Callable | None = None,
    *,
    prompt: Callable | None = None,
    methods: tuple[str, ...] | None = None,
):
    """A view that matters (Show Key, a code reveal, changing email, password or two-factor,
    Team changes) runs only when the user confirmed it is them within RECONFIRM_SECONDS:
    their password, or a code of their second factor when they have one.

    When not, the answer is the confirmation form, in place (no redirect), carrying what was
    posted; once it checks out the view runs with that post (or, for a GET, the page loads
    again). `prompt(request, form, *args, **kwargs)` renders the form inside the view's own
    page; by default it is accounts/confirm.html. `methods` limits the question to those
    (e.g. ("POST",): the page may be seen, a change asks first). Every answer is no-store.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @never_cache
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if confirmation_recent(request) or (methods and request.method not in methods):
                return view(request, *args, **kwargs)
            form = ConfirmItsYouForm(user=request.user, ip=client_ip(request))
            if request.method == "POST" and form.field_name in request.POST:
                form = ConfirmItsYouForm(request.POST, user=request.user, ip=client_ip(request))
                if form.is_valid():
                    confirmation_record(request)
                    if CONFIRM_THEN_GET in request.POST:
                        return redirect(request.get_full_path())
                    request.POST = _carried(request.POST)
                    return view(request, *args, **kwargs)
            if prompt is not None:
                return prompt(request, form, *args, **kwargs)
            return confirm_page(request, form)

        return wrapper

    return decorator if view is None else decorator(view)


def confirm_page(request: HttpRequest, form: ConfirmItsYouForm, *, why: str = "") -> HttpResponse:
    """The confirmation on a page of its own, carrying what was posted. A prompt that must
    first 404 on another account's object fetches it, then returns this. `why` is the
    sentence that says why it asks, for a view that changes nothing (a reveal); by default
    the page or the change "matters"."""
    then_get = request.method != "POST"
    context = {
        "confirm_form": form,
        "carried": list(_carried(request.POST).lists()) if request.method == "POST" else [],
        "then_get": then_get,
        "why": why or f"This {'page' if then_get else 'change'} matters",
    }
    return render(request, "accounts/confirm.html", context)


def _carried(post: QueryDict) -> QueryDict:
    """What the user posted, without the confirmation's own fields."""
    carried = QueryDict(mutable=True)
    for name, values in post.lists():
        if name not in _CONFIRMATION_FIELDS:
            carried.setlist(name, values)
    return carried
