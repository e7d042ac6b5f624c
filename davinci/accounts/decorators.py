from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect

from davinci.accounts.models import Account, Membership, Role

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
