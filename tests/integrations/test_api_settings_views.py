"""The "API Settings" tab: the list of keys, "Create API Key", the key detail window,
"Show Key", Disable/Enable, Roll secret and Delete."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.views.debug import SafeExceptionReporterFilter

from davinci.accounts.forms import ConfirmItsYouForm
from davinci.accounts.models import AuditEvent
from facilities.models import LockEvent
from integrations.models import ApiKey
from integrations.secrets import secret_matches
from tests.factories import ApiKeyFactory, FacilityFactory, LockFactory
from tests.integrations.conftest import confirm_password_in_session

PASSWORD_FAILURES_ALLOWED = ConfirmItsYouForm.FAILURES_ALLOWED

Action = AuditEvent.Action
LIST = reverse("integrations:api_settings")
CREATE = reverse("integrations:api_key_create")
# What a browser posts when nobody touches the permissions: Read lock information is checked.
READ = {"permissions": "read"}


def detail_url(key):
    return reverse("integrations:api_key_detail", args=[key.pk])


def reveal_url(key):
    return reverse("integrations:api_key_reveal", args=[key.pk])


def _form_errors(response):
    form = response.context["form"]
    return {field: [e.code for e in errors.as_data()] for field, errors in form.errors.items()}


# --- the list ------------------------------------------------------------------------------


def test_list_shows_the_accounts_keys_with_their_facilities(owner_client, account, facility):
    all_key = ApiKeyFactory(account=account, name="Call Center")
    some_key = ApiKeyFactory(account=account, name="Night desk", facilities=[facility])
    deleted = ApiKeyFactory(account=account, name="Old vendor")
    deleted.soft_delete(by=None)
    deleted.save()
    ApiKeyFactory(account=FacilityFactory().account, name="Somebody else's key")

    response = owner_client.get(LIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Create API Key" in page
    assert all_key.api_key in page and "All Facilities" in page
    assert some_key.api_key in page and facility.name in page
    assert detail_url(all_key) in page
    assert "Old vendor" not in page
    assert "Somebody else" not in page
    assert all_key.plain_secret not in page


def test_list_shows_at_most_three_facility_names(owner_client, account):
    facilities = [FacilityFactory(account=account, name=f"Site {n}") for n in range(5)]
    ApiKeyFactory(account=account, facilities=facilities)
    page = owner_client.get(LIST).content.decode()
    assert "Site 0, Site 1, Site 2 and 2 more" in page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_uses_constant_queries_with_1_and_50_keys(
    owner_client, account, django_assert_max_num_queries
):
    facilities = [FacilityFactory(account=account) for _ in range(5)]
    ApiKeyFactory(account=account, facilities=facilities)
    owner_client.get(LIST)  # warm up the session
    with django_assert_max_num_queries(8):
        one = _queries(owner_client, LIST)
    for n in range(49):
        ApiKeyFactory(account=account, facilities=facilities[: n % 5 + 1])
    with django_assert_max_num_queries(8):
        fifty = _queries(owner_client, LIST)
    assert one == fifty


def _lookups(key, lock, count: int) -> None:
    LockEvent.objects.bulk_create(
        LockEvent(
            lock=lock,
            kind=LockEvent.Kind.CODE_LOOKED_UP,
            actor_type=LockEvent.Actor.API_KEY,
            api_key=key,
        )
        for _ in range(count)
    )


def test_list_costs_the_same_with_3_and_30_facilities_per_key_and_more_history(
    owner_client, account
):
    """The list's numbers are read for the page's keys, each in one query of its own: no
    count multiplied by a key's facilities or its lookups."""
    lock = LockFactory(facility=FacilityFactory(account=account))
    facilities = [FacilityFactory(account=account, name=f"Site {n:02d}") for n in range(30)]
    keys = [ApiKeyFactory(account=account, facilities=facilities[:3]) for _ in range(3)]
    ApiKeyFactory(account=account, name="Everything")
    _lookups(keys[0], lock, 2)
    owner_client.get(LIST)  # warm up the session
    few = _queries(owner_client, LIST)
    for key in keys:
        key.facilities.set(facilities)
    _lookups(keys[0], lock, 40)
    assert _queries(owner_client, LIST) == few
    shown = {key.pk: key for key in owner_client.get(LIST).context["page"]}
    assert shown[keys[0].pk].recent_lookups == 42
    assert (shown[keys[1].pk].facility_count, shown[keys[1].pk].readable_count) == (30, 30)
    assert shown[keys[1].pk].first_facilities == ["Site 00", "Site 01", "Site 02"]


def test_list_reads_history_once_and_only_for_the_keys_on_the_page(owner_client, account):
    for _ in range(30):
        ApiKeyFactory(account=account)
    with CaptureQueriesContext(connection) as captured:
        page = owner_client.get(LIST).context["page"]
    history = [q["sql"] for q in captured.captured_queries if "facilities_lockevent" in q["sql"]]
    assert len(history) == 1
    [listed] = re.findall(r'"api_key_id" IN \(([^)]*)\)', history[0])
    assert {int(pk) for pk in listed.split(",")} == {key.pk for key in page}
    assert len(page) == 25
    # The paginator counts the keys alone: no history, no facilities in that COUNT.
    [count] = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT COUNT")]
    assert "integrations_apikey" in count
    assert "facilities_" not in count


def test_list_counts_what_each_chosen_key_can_read(owner_client, account):
    included = [FacilityFactory(account=account) for _ in range(4)]
    excluded = FacilityFactory(account=account, include_in_api=False)
    key = ApiKeyFactory(account=account, facilities=[*included, excluded])
    shown = owner_client.get(LIST).context["page"].object_list
    [row] = [k for k in shown if k.pk == key.pk]
    assert (row.facility_count, row.readable_count, row.recent_lookups) == (5, 4, 0)


def test_list_is_paginated(owner_client, account):
    for _ in range(30):
        ApiKeyFactory(account=account)
    response = owner_client.get(LIST)
    assert len(response.context["page"].object_list) == 25
    assert "Page 1 of 2" in response.content.decode()
    assert len(owner_client.get(LIST, {"page": 2}).context["page"].object_list) == 5


# --- Create API Key ------------------------------------------------------------------------


def test_create_form_has_the_articles_labels(owner_client, facility):
    page = owner_client.get(CREATE).content.decode()
    for label in ("Name", "All Facilities", "Save &amp; Submit", "Find a facility"):
        assert label in page
    assert 'name="all_facilities" ' in page and "checked" in page  # on by default
    # While All Facilities is on, no facility is listed at all: the picker searches.
    assert facility.name not in page and facility.facility_id not in page


def test_create_for_all_facilities(owner_client, account, owner):
    response = owner_client.post(CREATE, {**READ, "name": "Call Center", "all_facilities": "on"})
    assert response.status_code == 302 and response["Location"] == LIST
    key = ApiKey.objects.get()
    assert (key.account, key.name, key.all_facilities, key.created_by) == (
        account,
        "Call Center",
        True,
        owner,
    )
    assert AuditEvent.objects.get().action == Action.KEY_CREATED
    page = owner_client.get(LIST).content.decode()
    assert key.api_key in page and "Call Center" in page


def test_create_for_chosen_facilities(owner_client, facility):
    FacilityFactory(account=facility.account, name="Not chosen")
    response = owner_client.post(
        CREATE, {**READ, "name": "Call Center", "facilities": facility.facility_id}
    )
    assert response.status_code == 302
    key = ApiKey.objects.get()
    assert not key.all_facilities
    assert list(key.facilities_in_scope()) == [facility]


def test_create_with_all_facilities_off_and_none_selected_is_an_error(owner_client, facility):
    response = owner_client.post(CREATE, {**READ, "name": "Call Center"})
    assert response.status_code == 200
    assert _form_errors(response) == {"facilities": ["no_facilities"]}
    assert "Select at least one facility" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_create_naming_another_accounts_facility_is_refused(owner_client, other_facility):
    response = owner_client.post(
        CREATE, {**READ, "name": "Call Center", "facilities": other_facility.facility_id}
    )
    assert response.status_code == 200
    assert _form_errors(response) == {"facilities": ["invalid_choice"]}
    assert "Not a facility you can choose" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_create_needs_a_name(owner_client):
    response = owner_client.post(CREATE, {**READ, "name": "  ", "all_facilities": "on"})
    assert _form_errors(response) == {"name": ["required"]}
    assert not ApiKey.objects.exists()


def test_create_refuses_control_characters_in_the_name(owner_client):
    response = owner_client.post(CREATE, {**READ, "name": "Call\nCenter", "all_facilities": "on"})
    assert _form_errors(response) == {"name": ["invalid_name"]}


def test_create_offers_excluded_facilities_marked_as_such(owner_client, account):
    airport = FacilityFactory(account=account, name="Harbor Airport", include_in_api=False)
    response = owner_client.post(
        CREATE, {**READ, "name": "", "facilities_q": "airport", "facilities_picker": "search"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and not ApiKey.objects.exists()
    assert f"<code>{airport.facility_id}</code> · excluded from the API" in page


# --- the key detail window -----------------------------------------------------------------


def test_detail_shows_the_key_and_masks_the_secret(owner_client, api_key):
    response = owner_client.get(detail_url(api_key))
    page = response.content.decode()
    assert response.status_code == 200
    assert api_key.api_key in page
    assert api_key.masked_secret in page
    assert "Show Key" in page
    assert api_key.plain_secret not in page
    assert 'data-copy-target="#api-key"' in page
    for label in ("Disable", "Roll secret", "Delete", "All Facilities", "Expiry date"):
        assert label in page


def test_detail_saves_facilities_expiry_and_allowed_ips(owner_client, api_key, facility):
    response = owner_client.post(
        detail_url(api_key),
        {
            **READ,
            "name": "Call Center",
            "facilities": facility.facility_id,
            "expires_on": "2099-12-31",
            "allowed_ips": "203.0.113.7\n2001:db8::/48, 198.51.100.0/24",
        },
    )
    assert response.status_code == 302 and response["Location"] == detail_url(api_key)
    api_key.refresh_from_db()
    assert not api_key.all_facilities
    assert list(api_key.facilities.all()) == [facility]
    assert api_key.expires_at.date().isoformat() == "2099-12-31"
    assert api_key.allowed_ips == ["203.0.113.7/32", "2001:db8::/48", "198.51.100.0/24"]
    assert AuditEvent.objects.get().action == Action.KEY_EDITED


def test_detail_refuses_a_bad_ip_range(owner_client, api_key):
    response = owner_client.post(
        detail_url(api_key),
        {
            **READ,
            "name": "Call Center",
            "all_facilities": "on",
            "allowed_ips": "10.0.0.0/33\nlocalhost",
        },
    )
    assert response.status_code == 200
    assert _form_errors(response) == {"allowed_ips": ["invalid_cidr"]}
    assert "localhost" in response.content.decode()
    api_key.refresh_from_db()
    assert api_key.allowed_ips == []


def test_detail_refuses_an_expiry_in_the_past(owner_client, api_key):
    response = owner_client.post(
        detail_url(api_key),
        {**READ, "name": "X", "all_facilities": "on", "expires_on": "2001-01-01"},
    )
    assert _form_errors(response) == {"expires_on": ["expiry_in_past"]}


def test_detail_refuses_another_accounts_facility(owner_client, api_key, other_facility):
    response = owner_client.post(
        detail_url(api_key),
        {**READ, "name": "Call Center", "facilities": other_facility.facility_id},
    )
    assert _form_errors(response) == {"facilities": ["invalid_choice"]}
    api_key.refresh_from_db()
    assert api_key.all_facilities and not api_key.facilities.exists()


def test_detail_refuses_no_facility(owner_client, api_key):
    response = owner_client.post(detail_url(api_key), {**READ, "name": "Call Center"})
    assert _form_errors(response) == {"facilities": ["no_facilities"]}


def test_detail_of_a_deleted_key_is_404(owner_client, api_key):
    api_key.soft_delete(by=None)
    api_key.save()
    assert owner_client.get(detail_url(api_key)).status_code == 404


# --- Show Key ------------------------------------------------------------------------------


def test_show_key_requires_recent_password(owner_client, api_key):
    response = owner_client.post(reveal_url(api_key))
    page = response.content.decode()
    assert response.status_code == 200
    assert api_key.plain_secret not in page
    assert "confirm your password" in page
    assert 'name="password"' in page
    assert "no-store" in response["Cache-Control"]
    assert not AuditEvent.objects.filter(action=Action.KEY_REVEALED).exists()


def test_show_key_with_wrong_password_shows_no_secret(owner_client, api_key):
    response = owner_client.post(reveal_url(api_key), {"password": "guess"})
    assert api_key.plain_secret not in response.content.decode()
    assert [e.code for e in response.context["confirm_form"].errors.as_data()["password"]] == [
        "wrong_password"
    ]
    assert not AuditEvent.objects.filter(action=Action.KEY_REVEALED).exists()


def test_show_key_with_password_reveals_and_audits(owner_client, owner, api_key, password):
    response = owner_client.post(
        reveal_url(api_key), {"password": password}, REMOTE_ADDR="198.51.100.4"
    )
    page = response.content.decode()
    assert api_key.plain_secret in page
    assert 'data-copy-target="#api-secret"' in page
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action=Action.KEY_REVEALED)
    assert (event.actor, event.ip, event.target_id) == (owner, "198.51.100.4", api_key.api_key)
    # The password never reaches the view (the decorator took it), nor an error report.
    request = response.wsgi_request
    assert SafeExceptionReporterFilter().get_post_parameters(request).get("password") != password


def test_show_key_within_ten_minutes_needs_no_password(owner_client, api_key):
    confirm_password_in_session(owner_client, seconds_ago=9 * 60)
    response = owner_client.post(reveal_url(api_key))
    assert api_key.plain_secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_show_key_after_ten_minutes_asks_again(owner_client, api_key):
    confirm_password_in_session(owner_client, seconds_ago=10 * 60 + 1)
    response = owner_client.post(reveal_url(api_key))
    assert api_key.plain_secret not in response.content.decode()
    assert "confirm_form" in response.context


def test_show_key_stops_trying_passwords_after_repeated_failures(owner_client, api_key, password):
    for _ in range(PASSWORD_FAILURES_ALLOWED):
        owner_client.post(reveal_url(api_key), {"password": "guess"})
    response = owner_client.post(reveal_url(api_key), {"password": password})
    assert api_key.plain_secret not in response.content.decode()
    assert "Too many wrong passwords" in response.content.decode()


def test_show_key_shows_the_secret_after_a_roll(owner_client, api_key):
    old = api_key.plain_secret
    owner_client.post(reverse("integrations:api_key_roll", args=[api_key.pk]), {"grace_hours": 0})
    confirm_password_in_session(owner_client)
    page = owner_client.post(reveal_url(api_key)).content.decode()
    api_key.refresh_from_db()
    assert old not in page
    shown = page.split('id="api-secret">')[1].split("<")[0]
    assert secret_matches(shown, api_key.secret_digest)


# --- Disable / Enable ----------------------------------------------------------------------


def test_disable_and_enable(owner_client, api_key):
    response = owner_client.post(reverse("integrations:api_key_disable", args=[api_key.pk]))
    assert response.status_code == 302 and response["Location"] == detail_url(api_key)
    api_key.refresh_from_db()
    assert not api_key.is_active
    page = owner_client.get(detail_url(api_key)).content.decode()
    assert "This key is disabled" in page and ">Enable<" in page

    owner_client.post(reverse("integrations:api_key_enable", args=[api_key.pk]))
    api_key.refresh_from_db()
    assert api_key.is_active
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        Action.KEY_DISABLED,
        Action.KEY_ENABLED,
    ]


def test_disable_twice_is_harmless(owner_client, api_key):
    url = reverse("integrations:api_key_disable", args=[api_key.pk])
    owner_client.post(url)
    response = owner_client.post(url, follow=True)
    assert "was already disabled" in response.content.decode()
    assert AuditEvent.objects.count() == 1


# --- Roll secret ---------------------------------------------------------------------------


def test_roll_page_asks_for_the_grace_period(owner_client, api_key):
    page = owner_client.get(reverse("integrations:api_key_roll", args=[api_key.pk])).content
    assert b"Immediately" in page and b"After 24 hours" in page


def test_roll_with_grace_period(owner_client, api_key):
    response = owner_client.post(
        reverse("integrations:api_key_roll", args=[api_key.pk]), {"grace_hours": "4"}
    )
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert not secret_matches(api_key.plain_secret, api_key.secret_digest)
    assert secret_matches(api_key.plain_secret, api_key.previous_secret_digest)
    assert AuditEvent.objects.get().action == Action.KEY_ROLLED


def test_roll_refuses_an_unknown_grace_period(owner_client, api_key):
    response = owner_client.post(
        reverse("integrations:api_key_roll", args=[api_key.pk]), {"grace_hours": "99"}
    )
    assert response.status_code == 200
    assert [e.code for e in response.context["form"].errors.as_data()["grace_hours"]] == [
        "invalid_choice"
    ]
    api_key.refresh_from_db()
    assert secret_matches(api_key.plain_secret, api_key.secret_digest)
    assert not AuditEvent.objects.exists()


# --- Delete --------------------------------------------------------------------------------


def test_delete_asks_first_then_soft_deletes(owner_client, api_key):
    url = reverse("integrations:api_key_delete", args=[api_key.pk])
    assert b"cannot be undone" in owner_client.get(url).content
    api_key.refresh_from_db()
    assert not api_key.is_deleted

    response = owner_client.post(url)
    assert response.status_code == 302 and response["Location"] == LIST
    api_key.refresh_from_db()
    assert api_key.is_deleted and not api_key.is_active
    assert owner_client.get(detail_url(api_key)).status_code == 404
    assert owner_client.post(url).status_code == 404
    assert AuditEvent.objects.get().action == Action.KEY_DELETED


# --- keys that can read nothing --------------------------------------------------------------


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.wsgi_request._messages]


def test_create_with_only_excluded_facilities_warns_that_it_reads_nothing(owner_client, account):
    airport = FacilityFactory(account=account, name="Harbor Airport", include_in_api=False)
    response = owner_client.post(
        CREATE, {**READ, "name": "Call Center", "facilities": airport.facility_id}
    )
    assert response.status_code == 302
    levels = dict(_messages(response))
    assert "warning" in levels
    assert "can read no facility right now" in levels["warning"]
    assert "Harbor Airport" in levels["warning"]
    page = owner_client.get(LIST).content.decode()
    assert "Reads nothing" in page


def test_create_for_all_facilities_of_an_account_with_none_included_warns(owner_client, account):
    FacilityFactory(account=account, include_in_api=False)
    response = owner_client.post(CREATE, {**READ, "name": "Call Center", "all_facilities": "on"})
    assert "warning" in dict(_messages(response))


def test_create_that_can_read_a_facility_does_not_warn(owner_client, facility):
    response = owner_client.post(
        CREATE, {**READ, "name": "Call Center", "facilities": facility.facility_id}
    )
    assert "warning" not in dict(_messages(response))
    assert "Reads nothing" not in owner_client.get(LIST).content.decode()


def test_saving_a_key_whose_facilities_are_all_excluded_warns(owner_client, api_key, account):
    airport = FacilityFactory(account=account, name="Harbor Airport", include_in_api=False)
    response = owner_client.post(
        detail_url(api_key), {**READ, "name": api_key.name, "facilities": airport.facility_id}
    )
    assert response.status_code == 302
    assert "can read no facility right now" in dict(_messages(response))["warning"]


def test_the_confirmation_after_disable_is_a_warning_not_a_success(owner_client, api_key):
    response = owner_client.post(reverse("integrations:api_key_disable", args=[api_key.pk]))
    assert _messages(response) == [
        ("warning", f"“{api_key.name}” is disabled: every API request with it is refused now.")
    ]
    page = owner_client.get(detail_url(api_key)).content.decode()
    assert "alert-warning alert-dismissible" in page and "alert-success" not in page


def test_api_settings_links_the_api_documentation(owner_client, api_key):
    page = owner_client.get(LIST).content.decode()
    assert f'href="{reverse("api:docs")}"' in page


# --- permissions -----------------------------------------------------------------------------


def test_create_offers_the_permissions_with_only_read_checked(owner_client):
    form = owner_client.get(CREATE).context["form"]
    page = owner_client.get(CREATE).content.decode()
    for label in (
        "Read lock information",
        "Release overlocks",
        "Set lock status",
        "Send FMS events",
        "Read the event feed",
    ):
        assert label in page
    assert form["permissions"].value() == ["read"]
    assert re.search(r'<input[^>]*name="permissions"[^>]*value="read"[^>]*checked', page)
    assert not re.search(r'<input[^>]*name="permissions"[^>]*value="release"[^>]*checked', page)


def test_create_with_the_checked_permissions(owner_client):
    response = owner_client.post(
        CREATE,
        {"name": "Call Center", "all_facilities": "on", "permissions": ["read", "release"]},
    )
    assert response.status_code == 302
    key = ApiKey.objects.get()
    assert key.permissions == ["read", "release"]
    event = AuditEvent.objects.get()
    assert event.details["permissions"] == ["read", "release"]
    assert "Permissions: Read lock information, Release overlocks" in event.details["summary"]


def test_create_without_any_permission_is_an_error(owner_client):
    response = owner_client.post(CREATE, {"name": "Call Center", "all_facilities": "on"})
    assert response.status_code == 200
    assert _form_errors(response) == {"permissions": ["required"]}
    assert "Choose at least one permission" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_create_refuses_an_unknown_permission(owner_client):
    response = owner_client.post(
        CREATE, {"name": "Call Center", "all_facilities": "on", "permissions": ["read", "admin"]}
    )
    assert response.status_code == 200
    assert _form_errors(response) == {"permissions": ["invalid_choice"]}
    assert not ApiKey.objects.exists()


def test_a_client_admin_may_give_any_permission(admin_client, account):
    """Permissions say what a key does within its facilities; whoever manages keys chooses
    them (a Client Admin may release and set statuses in the portal too)."""
    response = admin_client.post(
        CREATE,
        {"name": "Call Center", "all_facilities": "on", "permissions": ["release", "set_status"]},
    )
    assert response.status_code == 302
    assert ApiKey.objects.get().permissions == ["release", "set_status"]


def test_detail_shows_and_changes_the_permissions_audited(owner_client, api_key):
    page = owner_client.get(detail_url(api_key)).content.decode()
    assert re.search(r'<input[^>]*name="permissions"[^>]*value="read"[^>]*checked', page)
    response = owner_client.post(
        detail_url(api_key),
        {"name": api_key.name, "all_facilities": "on", "permissions": ["release", "read"]},
    )
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.permissions == ["read", "release"]
    event = AuditEvent.objects.get(action=Action.KEY_EDITED)
    assert event.details["changes"]["permissions"] == [["read"], ["read", "release"]]
    assert event.details["summary"] == (
        "Permissions: Read lock information → Read lock information, Release overlocks"
    )


def test_detail_refuses_removing_every_permission(owner_client, api_key):
    response = owner_client.post(
        detail_url(api_key), {"name": api_key.name, "all_facilities": "on"}
    )
    assert _form_errors(response) == {"permissions": ["required"]}
    api_key.refresh_from_db()
    assert api_key.permissions == ["read"]


def test_list_shows_each_keys_permissions(owner_client, account):
    ApiKeyFactory(account=account, name="Writer", permissions=["read", "release", "set_status"])
    page = owner_client.get(LIST).content.decode()
    assert "Permissions" in page
    for label in ("Read lock information", "Release overlocks", "Set lock status"):
        assert label in page
    assert "Send FMS events" not in page
