"""The release page's facility choice: found by typing part of the name or city, at most
RELEASE_MATCHES at a time, only the account's facilities included in the API, and a cost that
does not grow with the account."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facilities.models import Facility
from facilities.release.forms import RELEASE_MATCHES
from tests.factories import FacilityFactory


def page_url(account) -> str:
    return reverse("release:page", args=[account.slug])


def search_url(account) -> str:
    return reverse("release:facility_search", args=[account.slug])


def _chain(account, n: int, start: int = 0) -> None:
    Facility.objects.bulk_create(
        Facility(account=account, name=f"Depot {i:04d}", address=f"{i} Main St, Town {i}")
        for i in range(start, start + n)
    )


def _offered(response) -> list[str]:
    return [value for value, _ in response.context["form"].fields["facility"].choices]


def test_a_small_account_lists_its_facilities_without_a_search(client, account, facility):
    _chain(account, RELEASE_MATCHES - 1)
    response = client.get(page_url(account))
    assert len(_offered(response)) == RELEASE_MATCHES
    assert 'type="radio"' in response.content.decode()


def test_a_chain_lists_none_until_the_tenant_types(client, account, facility):
    _chain(account, 300)
    response = client.get(page_url(account))
    body = response.content.decode()
    assert _offered(response) == [] and 'type="radio"' not in body
    assert "Type part of your facility" in body
    assert len(response.content) < 20_000
    response = client.get(page_url(account), {"find": "downt"})
    assert _offered(response) == [facility.facility_id]
    assert "1 match for “downt”" in response.content.decode()


def test_matches_are_bounded_and_say_so(client, account):
    _chain(account, 50)
    response = client.get(page_url(account), {"find": "depot"})
    assert len(_offered(response)) == RELEASE_MATCHES
    assert "type more of the name to narrow them" in response.content.decode()


def test_only_included_facilities_of_the_account_are_found(
    client, account, facility, excluded_facility, other_facility
):
    for find in ("harbor", excluded_facility.name, other_facility.name, other_facility.facility_id):
        page = client.get(page_url(account), {"find": find})
        found = client.get(search_url(account), {"find": find}).json()["results"]
        for offered in (_offered(page), [r["facility_id"] for r in found]):
            assert excluded_facility.facility_id not in offered, find
            assert other_facility.facility_id not in offered, find
    assert client.get(search_url(account), {"find": "harbor"}).json() == {
        "results": [
            {"facility_id": facility.facility_id, "label": f"{facility.name} — {facility.address}"}
        ],
        "more": False,
    }


def test_search_of_an_unknown_account_is_404(client, account, facility):
    assert client.get("/release/no-such-company/facilities/", {"find": "harbor"}).status_code == 404


@pytest.mark.parametrize("find", ["a\x00b", "x" * 5000, "%", "_", "'"])
def test_odd_searches_answer_plainly(client, account, facility, find):
    assert client.get(page_url(account), {"find": find}).status_code == 200
    assert client.get(search_url(account), {"find": find}).status_code == 200


def test_search_is_get_only_and_never_cached(client, account, facility):
    assert client.post(search_url(account), {"find": "harbor"}).status_code == 405
    response = client.get(search_url(account), {"find": "harbor"})
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_page_and_its_search_cost_the_same_at_15_and_600_facilities(client, account):
    _chain(account, 15)
    counts = {}
    for size in ("small", "large"):
        with CaptureQueriesContext(connection) as page:
            client.get(page_url(account), {"find": "depot 001"})
        with CaptureQueriesContext(connection) as search:
            client.get(search_url(account), {"find": "depot"})
        counts[size] = (len(page), len(search))
        _chain(account, 585, start=15)
    assert counts["small"] == counts["large"]


def test_a_form_error_keeps_the_chosen_facility_on_the_page(client, account, facility):
    _chain(account, 300)
    response = client.post(
        page_url(account), {"facility": facility.facility_id, "unit_number": "A101"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["contact"]
    assert _offered(response) == [facility.facility_id]
    assert f'value="{facility.facility_id}" checked' in response.content.decode()


def test_a_forged_excluded_facility_is_not_put_back_on_the_page(
    client, account, facility, excluded_facility
):
    _chain(account, 300)
    FacilityFactory(account=account, name="Another")
    response = client.post(
        page_url(account), {"facility": excluded_facility.facility_id, "unit_number": "A101"}
    )
    assert excluded_facility.facility_id not in _offered(response)
    assert excluded_facility.name not in response.content.decode()


def test_searching_is_rate_limited_per_address_as_attempts_are(client, account, facility, settings):
    """Each search (as you type, or `?find=` on the page) runs a trigram query on a public
    page: one address may search RELEASE_SEARCHES_PER_IP times a window, then waits."""
    settings.RELEASE_SEARCHES_PER_IP = 3
    for _ in range(3):
        assert client.get(search_url(account), {"find": "harb"}).status_code == 200
    refused = client.get(search_url(account), {"find": "harb"})
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(settings.RELEASE_RATE_LIMIT_WINDOW)
    assert refused.json() == {
        "error": "too_many_searches",
        "message": "Too many searches. Please wait an hour, or call your facility.",
    }
    page = client.get(page_url(account), {"find": "harb"})
    assert page.status_code == 429
    assert "Too many searches. Please wait an hour" in page.content.decode()
    # Another address is not held up by this one.
    assert (
        client.get(search_url(account), {"find": "harb"}, REMOTE_ADDR="10.9.9.9").status_code == 200
    )
    # The page without a search still opens (a tenant can call, or pick from a small list).
    assert client.get(page_url(account)).status_code == 200
