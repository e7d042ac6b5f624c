"""The portal's list of release attempts: /facilities/release-activity/."""

import pytest
from django.test import Client
from django.urls import reverse

from facilities.models import ReleaseAttempt
from tests.conftest import signed_in
from tests.factories import FacilityFactory, UnitFactory

URL = reverse("facilities:release_activity")
Outcome = ReleaseAttempt.Outcome


def attempt(account, facility, **fields) -> ReleaseAttempt:
    defaults = {
        "unit_number": "A101",
        "channel": ReleaseAttempt.Channel.EMAIL,
        "contact": "avery@example.com",
        "ip": "203.0.113.5",
        "outcome": Outcome.CONTACT_MISMATCH,
    }
    defaults.update(fields)
    return ReleaseAttempt.objects.create(account=account, facility=facility, **defaults)


def test_anonymous_is_sent_to_sign_in(client: Client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("member", ["manager", "call_center_user"])
def test_managers_and_call_center_users_are_refused(request, member, facility):
    attempt(facility.account, facility)
    response = signed_in(request.getfixturevalue(member)).get(URL)
    assert response.status_code == 403
    assert b"avery@example.com" not in response.content


def test_other_accounts_owner_sees_only_their_own_attempts(
    other_owner_client, account, facility, other_facility
):
    attempt(account, facility, contact="ours@example.com")
    attempt(other_facility.account, other_facility, contact="theirs@example.com")

    response = other_owner_client.get(URL)

    assert response.status_code == 200
    assert b"theirs@example.com" in response.content
    assert b"ours@example.com" not in response.content
    assert b"/release/rival-storage/" in response.content


def test_wrong_method_is_405(owner_client):
    assert owner_client.post(URL).status_code == 405


@pytest.mark.parametrize("member", ["owner", "admin_user"])
def test_owners_and_admins_see_every_attempt_with_its_outcome(
    request, member, account, facility, tenant_unit, released
):
    client = signed_in(request.getfixturevalue(member))
    for outcome in Outcome:
        attempt(account, facility, outcome=outcome, contact=f"{outcome.value}@example.com")

    response = client.get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    for outcome in Outcome:
        assert outcome.label in body
        assert f"{outcome.value}@example.com" in body
    assert "http://testserver/release/harbor-self-storage/" in body
    assert released.unlock_code not in body


def test_attempts_made_on_the_page_show_up(
    client, owner_client, account, facility, tenant_unit, released
):
    client.post(
        reverse("release:page", args=[account.slug]),
        {
            "facility": facility.facility_id,
            "unit_number": "a101",
            "contact": "avery.johnson@example.com",
        },
        REMOTE_ADDR="198.51.100.23",
    )

    body = owner_client.get(URL).content.decode()

    assert "Code sent" in body
    assert "198.51.100.23" in body
    assert "a101" in body
    assert released.serial in body


def test_invalid_page_number_shows_the_first_page(owner_client, account, facility):
    attempt(account, facility)
    response = owner_client.get(URL, {"page": "not-a-number"})
    assert response.status_code == 200
    assert response.context["page"].number == 1


def test_list_is_paginated_in_a_constant_number_of_queries(
    owner_client, account, django_assert_max_num_queries
):
    facilities = FacilityFactory.create_batch(3, account=account)
    attempt(account, facilities[0])
    with django_assert_max_num_queries(12) as one:
        owner_client.get(URL)
    for n in range(80):
        attempt(account, facilities[n % 3], contact=f"t{n}@example.com")
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = owner_client.get(URL)
    assert len(response.context["page"].object_list) == 50
    assert b"Page 1 of 2" in response.content


def test_an_attempt_on_a_known_unit_links_to_it(owner_client, account, facility):
    unit = UnitFactory(facility=facility, unit_number="A101")
    attempt(account, facility, unit=unit, outcome=Outcome.CONTACT_MISMATCH)
    attempt(account, facility, unit_number="Z999")  # no such unit: nothing to link to
    body = owner_client.get(URL).content.decode()
    assert f'href="{reverse("facilities:unit_detail", args=[unit.pk])}">A101</a>' in body
    assert ">Z999</a>" not in body and "Z999" in body


def test_release_activity_is_a_tab_of_integrations(owner_client):
    tabs = owner_client.get(reverse("integrations:api_settings")).content.decode()
    assert f'href="{URL}">Overlock release</a>' in tabs
    page = owner_client.get(URL).content.decode()
    assert f'aria-current="page"\n         href="{URL}">Overlock release</a>' in page
    # The top navigation marks Integrations, where the tab is.
    assert 'aria-current="page"\n                 href="/integrations/">Integrations</a>' in page
