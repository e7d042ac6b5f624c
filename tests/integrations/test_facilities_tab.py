"""The "Facilities" tab: Facility ID with a copy button and the "Include in API" toggle."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from davinci.accounts.models import AuditEvent
from facilities.models import Facility
from tests.factories import ApiKeyFactory, FacilityFactory

URL = reverse("integrations:facility_list")


def include_url(facility):
    return reverse("integrations:facility_include", args=[facility.facility_id])


def test_lists_facilities_with_facility_id_and_include_in_api(
    owner_client, facility, other_facility
):
    excluded = FacilityFactory(account=facility.account, name="Harbor Airport")
    excluded.include_in_api = False
    excluded.save()
    response = owner_client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    for text in ("Facility ID", "Include in API", facility.facility_id, facility.address):
        assert text in page
    assert f'data-copy-target="#facility-id-{facility.facility_id}"' in page
    # The toggle is a real form: it works without JavaScript.
    assert f'action="{include_url(facility)}"' in page
    assert "data-autosubmit" in page and 'type="submit"' in page
    assert re.search(rf'id="include-{facility.facility_id}"\s+checked', page)
    assert re.search(rf'id="include-{excluded.facility_id}"\s+data-autosubmit', page)
    assert other_facility.name not in page
    assert f"/release/{facility.account.slug}/" in page


def test_toggle_off_then_on(owner_client, owner, facility):
    key = ApiKeyFactory(account=facility.account, facilities=[facility])
    response = owner_client.post(
        include_url(facility), {"next": URL + "?page=1"}, REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 302 and response["Location"] == URL + "?page=1"
    facility.refresh_from_db()
    assert not facility.include_in_api
    assert not key.facilities_in_scope().exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.ip, event.target_id) == (
        AuditEvent.Action.FACILITY_EXCLUDED,
        owner,
        "203.0.113.9",
        facility.facility_id,
    )
    page = owner_client.get(URL).content.decode()
    assert "excluded from the API" in page

    owner_client.post(include_url(facility), {"include_in_api": "on"})
    facility.refresh_from_db()
    assert facility.include_in_api
    assert list(key.facilities_in_scope()) == [facility]
    assert AuditEvent.objects.count() == 2


def test_toggle_to_the_current_value_changes_nothing(owner_client, facility):
    response = owner_client.post(include_url(facility), {"include_in_api": "on"})
    assert response.status_code == 302
    facility.refresh_from_db()
    assert facility.include_in_api
    assert not AuditEvent.objects.exists()


def test_toggle_ignores_an_outside_next_address(owner_client, facility):
    response = owner_client.post(include_url(facility), {"next": "https://evil.example/"})
    assert response["Location"] == URL


def test_toggle_of_an_unknown_facility_is_404(owner_client):
    assert owner_client.post("/integrations/facilities/nosuchfacility/include/").status_code == 404


def test_search_by_name_or_facility_id(owner_client, account, facility):
    FacilityFactory(account=account, name="Eastside")
    page = owner_client.get(URL, {"q": "downtown"}).content.decode()
    assert facility.name in page and "Eastside" not in page
    page = owner_client.get(URL, {"q": facility.facility_id}).content.decode()
    assert facility.name in page and "Eastside" not in page
    assert "No facility matches" in owner_client.get(URL, {"q": "zzz"}).content.decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_constant_queries_with_1_and_50_facilities(
    owner_client, account, django_assert_max_num_queries
):
    FacilityFactory(account=account)
    owner_client.get(URL)  # warm up the session
    with django_assert_max_num_queries(7):
        one = _queries(owner_client, URL)
    FacilityFactory.create_batch(49, account=account)
    with django_assert_max_num_queries(7):
        fifty = _queries(owner_client, URL)
    assert one == fifty


def test_paginated_for_2000_facilities(owner_client, account, django_assert_max_num_queries):
    Facility.objects.bulk_create(
        Facility(account=account, name=f"Site {n:04d}", address=f"{n} Main St") for n in range(2000)
    )
    owner_client.get(URL)
    with django_assert_max_num_queries(7):
        response = owner_client.get(URL)
    page = response.context["page"]
    assert len(page.object_list) == 50
    assert page.paginator.num_pages == 40
    assert "Page 1 of 40" in response.content.decode()
    last = owner_client.get(URL, {"page": 40}).context["page"].object_list
    assert [f.name for f in last][-1] == "Site 1999"
