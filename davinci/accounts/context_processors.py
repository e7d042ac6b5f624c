from django.http import HttpRequest

from davinci.accounts.models import Membership


def current_account(request: HttpRequest) -> dict:
    """The current account and, for the switcher, every account the user belongs to."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"current_account": None, "current_membership": None, "other_memberships": []}
    others = (
        Membership.objects.accepted()
        .filter(user_id=membership.user_id, is_active=True)
        .exclude(pk=membership.pk)
        .select_related("account")
        .order_by("account__name")
    )
    return {
        "current_account": membership.account,
        "current_membership": membership,
        # Evaluated only when the navigation renders it.
        "other_memberships": others,
    }
