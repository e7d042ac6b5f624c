from django.http import HttpRequest, HttpResponse

from davinci.accounts.models import Membership

SESSION_KEY = "current_account_id"


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership chosen in the account switcher (kept in the session), else the first."""
    if not request.user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=request.user).select_related("account")
    wanted = request.session.get(SESSION_KEY)
    if wanted is not None:
        chosen = memberships.filter(account_id=wanted).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("account__name", "account_id").first()


class CurrentAccountMiddleware:
    """Sets `request.membership` and `request.account`: the one place a portal request learns
    its account. Anonymous requests (the API, the release page) cost no query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = current_membership(request)
        request.account = request.membership.account if request.membership else None
        return self.get_response(request)
