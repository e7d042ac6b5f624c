"""/api/docs/ for a signed-in member: the examples name a real Facility ID of their account
(the first one included in the API that they may see); for anyone else, the placeholder."""

from __future__ import annotations

from django.urls import reverse

from integrations.api.openapi import EXAMPLE_FACILITY_ID

DOCS = reverse("api:docs")


def test_anonymous_readers_see_the_placeholder_facility_id(client, world):
    body = client.get(DOCS).content.decode()
    assert EXAMPLE_FACILITY_ID in body
    assert world.facility.facility_id not in body


def test_a_signed_in_owner_sees_their_first_included_facility(owner_client, world):
    body = owner_client.get(DOCS).content.decode()
    # Harbor Airport is excluded; Harbor Downtown comes before Harbor Eastside.
    assert f"/facilities/{world.facility.facility_id}/units/" in body
    assert EXAMPLE_FACILITY_ID not in body
    assert world.excluded.facility_id not in body and world.rival.facility_id not in body
    assert "use the Facility ID of Harbor Downtown" in body


def test_a_member_of_one_facility_sees_that_one(facility_restricted_client, world, second_facility):
    body = facility_restricted_client.get(DOCS).content.decode()
    assert f"/facilities/{second_facility.facility_id}/" in body
    assert world.facility.facility_id not in body


def test_an_account_with_nothing_in_the_api_keeps_the_placeholder(owner_client, world):
    world.facility.account.facilities.update(include_in_api=False)
    assert EXAMPLE_FACILITY_ID in owner_client.get(DOCS).content.decode()
