"""One test walks every URL pattern of the portal: anonymous visitors are sent to sign in, and
a user of another account gets 404 for every object URL (never 403: existence must not leak),
as does a user of the same account without access to the object's facility."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from automations.models import Rule
from davinci.accounts.models import Role
from facilities.models import HistoryArchive
from tests.conftest import signed_in
from tests.factories import (
    ApiKeyFactory,
    LockFactory,
    MembershipFactory,
    PasskeyFactory,
    UnitFactory,
    WebhookEndpointFactory,
    assigned_lock,
)

# Reachable without signing in, by design. The API authenticates with keys (tests/api).
PUBLIC_NAMESPACES = {"api", "release", "admin"}
# django-otp-webauthn's JSON ceremonies (and their translations) answer JSON, not a redirect:
# registering needs a signed-in user, authenticating the user halfway through signing in
# (tests/accounts/test_passkeys.py).
PUBLIC_NAMESPACES |= {"otp_webauthn"}
PUBLIC_NAMES = {
    "healthz",
    "readyz",
    "favicon",  # the site's icon (tests/core/test_favicon.py)
    "accounts:login",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    # One-time links from emails: the token is the credential (tests/team, tests/core).
    "accounts:email_confirm",
    "team:invitation_accept",
    # The sign-in's second step: the password was given (a session of its own, tests/accounts).
    "accounts:sign_in_second_step",
}


def _patterns(patterns=None, namespace: str = ""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or namespace
            yield from _patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, namespace, list(entry.pattern.converters) or _regex_groups(entry)


def _regex_groups(entry: URLPattern) -> list[str]:
    return list(entry.pattern.regex.groupindex)


PORTAL_URLS = [
    (name, kwargs)
    for name, namespace, kwargs in _patterns()
    if namespace not in PUBLIC_NAMESPACES and name not in PUBLIC_NAMES
]
OBJECT_URLS = [(name, kwargs) for name, kwargs in PORTAL_URLS if kwargs]


@pytest.fixture
def objects(account, facility):
    unit = UnitFactory(facility=facility)
    return {
        "facility": facility,
        "unit": unit,
        "lock": assigned_lock(unit),
        "spare_lock": LockFactory(facility=facility),
        "api_key": ApiKeyFactory(account=account),
        "webhook_endpoint": WebhookEndpointFactory(account=account),
        "member": MembershipFactory(account=account, role=Role.CLIENT_PERSONNEL),
        "passkey": PasskeyFactory(user=MembershipFactory(account=account).user),
        # A rule of `facility` only: a member without the facility does not see it.
        "rule": _rule_of(facility),
        "history_archive": HistoryArchive.objects.create(
            account=account,
            kind=HistoryArchive.Kind.LOCK_EVENTS,
            state=HistoryArchive.State.DONE,
            cutoff=timezone.now(),
        ),
    }


def _rule_of(facility) -> Rule:
    rule = Rule.objects.create(
        account=facility.account,
        trigger="move_out",
        statuses=["tenant_using_lock"],
        set_status="assigned_vacant",
        all_facilities=False,
    )
    rule.facilities.set([facility])
    return rule


def _kwargs(name: str, params: list[str], objects: dict) -> dict:
    """Arguments that name an object of the first account for each URL parameter."""
    short = name.split(":")[-1]
    kwargs = {}
    for param in params:
        if param == "facility_id":
            kwargs[param] = objects["facility"].facility_id
        elif param != "pk":
            raise AssertionError(f"{name}: teach this test the URL parameter {param!r}")
        elif short.startswith(("member", "ownership")):
            kwargs[param] = objects["member"].pk
        elif short.startswith("rule"):
            kwargs[param] = objects["rule"].pk
        elif short.startswith("history_archive"):
            kwargs[param] = objects["history_archive"].pk
        elif short.startswith("passkey"):
            kwargs[param] = objects["passkey"].pk
        elif short.startswith("endpoint"):
            kwargs[param] = objects["webhook_endpoint"].pk
        elif short.startswith("api_key"):
            kwargs[param] = objects["api_key"].pk
        elif short.startswith("unit"):
            kwargs[param] = objects["unit"].pk
        elif short.startswith("lock"):
            kwargs[param] = objects["spare_lock" if "assign" in short else "lock"].pk
        else:
            kwargs[param] = objects["facility"].pk
    return kwargs


def test_the_walk_covers_the_portal():
    names = {name for name, _ in PORTAL_URLS}
    assert {"facilities:facility_detail", "integrations:api_key_detail", "home"} <= names
    assert len(OBJECT_URLS) >= 15


@pytest.mark.parametrize(("name", "params"), PORTAL_URLS, ids=[n for n, _ in PORTAL_URLS])
def test_anonymous_visitors_are_sent_to_sign_in(client, objects, name, params):
    url = reverse(name, kwargs=_kwargs(name, params, objects))
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, (method, url)
        assert response.url.startswith(reverse("accounts:login") + "?next="), url


@pytest.mark.parametrize(("name", "params"), OBJECT_URLS, ids=[n for n, _ in OBJECT_URLS])
def test_another_accounts_user_gets_404(objects, other_account_owner, name, params):
    client = signed_in(other_account_owner)
    url = reverse(name, kwargs=_kwargs(name, params, objects))
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    assert response.status_code == 404, (url, response.status_code)


@pytest.mark.parametrize(("name", "params"), OBJECT_URLS, ids=[n for n, _ in OBJECT_URLS])
def test_a_user_without_the_facility_gets_404(objects, facility_restricted_client, name, params):
    """A Client Admin of the same account, with access to another facility only: every
    object of `facility` (its units, locks, a key and a member with All Facilities) is 404."""
    url = reverse(name, kwargs=_kwargs(name, params, objects))
    response = facility_restricted_client.get(url)
    if response.status_code == 405:
        response = facility_restricted_client.post(url)
    assert response.status_code == 404, (url, response.status_code)
