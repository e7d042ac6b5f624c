"""The facility picker (facilities.forms): one compact field of Facility IDs, validated against
the chooser's facilities; its JSON search, scoped to the account and to the member's access;
the no-JavaScript redraws; and costs that do not grow with the account."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from davinci.accounts.models import Membership, Role
from facilities.forms import (
    PICKER_CHOSEN_PER_PAGE,
    PICKER_RESULTS,
    FacilityChoiceField,
    parse_facility_ids,
)
from facilities.models import Facility
from integrations.models import ApiKey
from tests.conftest import confirmed, signed_in
from tests.factories import ApiKeyFactory, FacilityFactory, MembershipFactory

SEARCH = reverse("facilities:facility_picker")
CREATE_KEY = reverse("integrations:api_key_create")
ADD_USER = reverse("team:member_add")


def _many(account, n: int, start: int = 0) -> list[Facility]:
    Facility.objects.bulk_create(
        Facility(account=account, name=f"Depot {i:04d}", address=f"{i} Main St, Springfield, IL")
        for i in range(start, start + n)
    )
    return list(Facility.objects.for_account(account).filter(name__startswith="Depot"))


def _field(queryset) -> FacilityChoiceField:
    return FacilityChoiceField(queryset=queryset.order_by("name", "id"), required=False)


# --- the field -------------------------------------------------------------------------------


def test_facility_ids_are_read_from_spaces_commas_and_lines_in_any_case():
    text = " ABC123,def456\n\nabc123 ; ghi789\t"
    assert parse_facility_ids(text) == ["abc123", "def456", "ghi789"]
    assert parse_facility_ids("") == []


def test_the_field_cleans_to_the_facilities_in_the_order_given(account, facility, second_facility):
    field = _field(Facility.objects.for_account(account))
    value = f"{second_facility.facility_id.upper()}, {facility.facility_id}"
    assert field.clean(value) == [second_facility, facility]
    assert field.clean("") == []


def test_another_accounts_facility_is_an_error_naming_it(account, facility, other_facility):
    field = _field(Facility.objects.for_account(account))
    with pytest.raises(ValidationError) as excinfo:
        field.clean(f"{facility.facility_id} {other_facility.facility_id}")
    assert excinfo.value.code == "invalid_choice"
    assert other_facility.facility_id in excinfo.value.messages[0]
    assert other_facility.name not in excinfo.value.messages[0]


def test_a_facility_outside_the_choosers_access_is_refused_like_an_unknown_one(
    facility_restricted_admin, facility, second_facility
):
    field = _field(Facility.objects.for_membership(facility_restricted_admin.memberships.get()))
    assert field.clean(second_facility.facility_id) == [second_facility]
    with pytest.raises(ValidationError) as outside:
        field.clean(facility.facility_id)
    with pytest.raises(ValidationError) as unknown:
        field.clean("nosuchfacility00")
    assert outside.value.code == unknown.value.code == "invalid_choice"


@pytest.mark.parametrize(
    "garbage", ["²", "a\x00b", "x" * 5000, "-1", "'; DROP TABLE x; --", "名前"]
)
def test_garbage_is_a_form_error_not_a_database_error(account, facility, garbage):
    field = _field(Facility.objects.for_account(account))
    with pytest.raises(ValidationError) as excinfo:
        field.clean(f"{facility.facility_id} {garbage}")
    assert excinfo.value.code == "invalid_choice"
    assert len(excinfo.value.messages[0]) < 400


def test_the_error_names_three_ids_and_counts_the_rest(account):
    field = _field(Facility.objects.for_account(account))
    with pytest.raises(ValidationError) as excinfo:
        field.clean("aaa bbb ccc ddd eee")
    assert "aaa, bbb, ccc and 2 more" in excinfo.value.messages[0]


@pytest.mark.parametrize("n", [3, 1100])
def test_any_number_of_ids_is_one_query(account, n, django_assert_num_queries):
    chosen = _many(account, n)
    field = _field(Facility.objects.for_account(account))
    text = "\n".join(f.facility_id for f in chosen)
    with django_assert_num_queries(1):
        assert len(field.clean(text)) == n


# --- the JSON search ---------------------------------------------------------------------------


def test_search_finds_by_name_city_state_and_facility_id(owner_client, account, facility):
    facility.address = "100 Harbor Way, Portland, OR 97201"
    facility.save()
    FacilityFactory(account=account, name="Inland Depot", address="9 Elm St, Boise, ID")
    for q in ("downt", "portland", "OR 97", facility.facility_id.upper()):
        data = owner_client.get(SEARCH, {"q": q}).json()
        assert [r["facility_id"] for r in data["results"]] == [facility.facility_id], q
    row = owner_client.get(SEARCH, {"q": "downtown"}).json()["results"][0]
    assert row == {
        "facility_id": facility.facility_id,
        "name": facility.name,
        "address": facility.address,
        "include_in_api": True,
    }


def test_another_accounts_facility_never_appears(owner_client, facility, other_facility):
    for params in (
        {"q": other_facility.name},
        {"q": other_facility.facility_id},
        {"q": ""},
        {"ids": f"{other_facility.facility_id},{facility.facility_id}"},
    ):
        response = owner_client.get(SEARCH, params)
        assert response.status_code == 200
        ids = [r["facility_id"] for r in response.json()["results"]]
        assert other_facility.facility_id not in ids, params
    names = owner_client.get(SEARCH, {"ids": other_facility.facility_id}).json()
    assert names == {"results": [], "more": False}


def test_a_restricted_admin_searches_only_their_facilities(
    facility_restricted_client, facility, second_facility
):
    data = facility_restricted_client.get(SEARCH, {"q": "Harbor"}).json()
    assert [r["facility_id"] for r in data["results"]] == [second_facility.facility_id]
    data = facility_restricted_client.get(SEARCH, {"ids": facility.facility_id}).json()
    assert data["results"] == []


def test_results_are_bounded_and_say_there_are_more(owner_client, account):
    _many(account, PICKER_RESULTS + 5)
    data = owner_client.get(SEARCH, {"q": "depot"}).json()
    assert len(data["results"]) == PICKER_RESULTS and data["more"] is True
    assert data["results"][0]["name"] == "Depot 0000"  # by name
    data = owner_client.get(SEARCH, {"q": "Depot 0007"}).json()
    assert [r["name"] for r in data["results"]] == ["Depot 0007"] and data["more"] is False


def test_names_for_ids_come_back_in_the_order_asked(owner_client, account):
    first, second, third = _many(account, 3)
    ids = f"{third.facility_id},{first.facility_id} {second.facility_id}"
    data = owner_client.get(SEARCH, {"ids": ids}).json()
    assert [r["name"] for r in data["results"]] == [third.name, first.name, second.name]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 101},
        {"q": "a\x00b"},
        {"ids": " ".join(f"id{n}" for n in range(PICKER_CHOSEN_PER_PAGE + 1))},
    ],
)
def test_bad_input_is_a_json_error(owner_client, facility, params):
    response = owner_client.get(SEARCH, params)
    assert response.status_code == 400
    assert response.json()["error"]


def test_only_members_who_give_facilities_may_search(manager_client, call_center_client, facility):
    assert manager_client.get(SEARCH, {"q": "harbor"}).status_code == 403
    assert call_center_client.get(SEARCH, {"q": "harbor"}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, facility):
    response = client.get(SEARCH, {"q": "harbor"})
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_search_is_get_only(owner_client):
    assert owner_client.post(SEARCH, {"q": "harbor"}).status_code == 405


def test_search_costs_the_same_queries_at_5_and_500_facilities(owner_client, account):
    _many(account, 5)
    owner_client.get(SEARCH, {"q": "depot"})  # warm up the session
    with CaptureQueriesContext(connection) as small:
        owner_client.get(SEARCH, {"q": "depot"})
    _many(account, 495, start=5)
    with CaptureQueriesContext(connection) as large:
        data = owner_client.get(SEARCH, {"q": "depot"}).json()
    assert len(data["results"]) == PICKER_RESULTS
    assert len(small) == len(large)


# --- the forms, through the pages ------------------------------------------------------------


def test_a_key_with_1100_facilities_is_one_field_and_saves(owner_client, account):
    chosen = _many(account, 1100)
    response = owner_client.post(
        CREATE_KEY,
        {
            "name": "Call Center",
            "permissions": "read",
            "facilities": " ".join(f.facility_id for f in chosen),
        },
    )
    assert response.status_code == 302
    key = ApiKey.objects.get()
    assert key.facilities.count() == 1100 and not key.all_facilities


def test_a_member_with_1100_facilities_is_one_field_and_saves(owner, account):
    chosen = _many(account, 1100)
    client = confirmed(signed_in(owner))
    response = client.post(
        ADD_USER,
        {
            "name": "Cara Caller",
            "email": "cara@example.com",
            "role": Role.CLIENT_CALL_CENTER,
            "facilities": "\n".join(f.facility_id for f in chosen),
        },
    )
    assert response.status_code == 302
    member = Membership.objects.get(user__email="cara@example.com")
    assert member.facilities.count() == 1100


def test_all_facilities_on_ignores_the_chosen_ids(owner_client, other_facility):
    response = owner_client.post(
        CREATE_KEY,
        {
            "name": "CC",
            "all_facilities": "on",
            "permissions": "read",
            "facilities": other_facility.facility_id,
        },
    )
    assert response.status_code == 302
    key = ApiKey.objects.get()
    assert key.all_facilities and not key.facilities.exists()


def test_a_keys_page_costs_the_same_with_5_and_300_chosen(owner_client, account):
    facilities = _many(account, 300)
    pages = {}
    for count in (5, 300):
        key = ApiKeyFactory(account=account, facilities=facilities[:count])
        url = reverse("integrations:api_key_detail", args=[key.pk])
        owner_client.get(url)  # warm up the session
        with CaptureQueriesContext(connection) as queries:
            body = owner_client.get(url).content.decode()
        pages[count] = (len(queries), body)
    assert pages[5][0] == pages[300][0]
    # One page of the chosen list has names; the rest are Facility IDs in the text area.
    assert pages[5][1].count('class="picker-chip"') == 5
    assert pages[300][1].count('class="picker-chip"') == PICKER_CHOSEN_PER_PAGE
    assert "Depot 0049" in pages[300][1] and "Depot 0050" not in pages[300][1]
    assert facilities[299].facility_id in pages[300][1]


def test_all_facilities_on_lists_no_facility(owner_client, account):
    _many(account, 30)
    body = owner_client.get(CREATE_KEY).content.decode()
    assert "Depot 0000" not in body and 'class="picker-chip"' not in body


# --- without JavaScript: the picker's buttons redraw the form --------------------------------


def _post(client, url, **data):
    # Read lock information is checked on the page, so a browser posts it.
    return client.post(url, {"name": "Night desk", "permissions": "read", **data})


def test_search_redraws_the_form_and_saves_nothing(owner_client, account, facility):
    response = _post(owner_client, CREATE_KEY, facilities_q="downtown", facilities_picker="search")
    assert response.status_code == 200 and not ApiKey.objects.exists()
    body = response.content.decode()
    assert f'value="add:{facility.facility_id}"' in body
    assert "1 match for “downtown”" in body
    assert not response.context["form"].errors  # a redraw shows no error
    assert 'value="Night desk"' in body


def test_add_and_remove_change_the_ids_and_save_nothing(owner_client, facility, second_facility):
    response = _post(
        owner_client,
        CREATE_KEY,
        facilities=facility.facility_id,
        facilities_picker=f"add:{second_facility.facility_id}",
    )
    form = response.context["form"]
    assert form["facilities"].value() == f"{second_facility.facility_id}\n{facility.facility_id}"
    assert "Added Harbor Eastside" in response.content.decode()
    response = _post(
        owner_client,
        CREATE_KEY,
        facilities=form["facilities"].value(),
        facilities_picker=f"remove:{facility.facility_id}",
    )
    assert response.context["form"]["facilities"].value() == second_facility.facility_id
    assert "Removed Harbor Downtown" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_one_forms_search_is_never_drawn_in_the_next(
    owner_client, other_owner_client, facility, other_facility
):
    _post(owner_client, CREATE_KEY, facilities_q="harbor", facilities_picker="search")
    for client in (owner_client, other_owner_client):
        body = client.get(CREATE_KEY).content.decode()
        assert facility.name not in body and "match for" not in body


def test_adding_another_accounts_facility_is_refused(owner_client, other_facility):
    response = _post(
        owner_client, CREATE_KEY, facilities_picker=f"add:{other_facility.facility_id}"
    )
    assert response.context["form"]["facilities"].value() == ""
    body = response.content.decode()
    assert "That facility cannot be chosen." in body and other_facility.name not in body


def test_enter_searches_a_new_query_and_saves_otherwise(owner_client, facility):
    response = _post(owner_client, CREATE_KEY, facilities_q="harbor", facilities_picker="enter")
    assert response.status_code == 200 and not ApiKey.objects.exists()
    response = _post(
        owner_client,
        CREATE_KEY,
        facilities=facility.facility_id,
        facilities_q="harbor",
        facilities_searched="harbor",
        facilities_picker="enter",
    )
    assert response.status_code == 302
    assert list(ApiKey.objects.get().facilities.all()) == [facility]


def test_the_chosen_list_pages_without_javascript(owner_client, account):
    chosen = _many(account, 120)
    ids = " ".join(f.facility_id for f in chosen)
    response = _post(owner_client, CREATE_KEY, facilities=ids, facilities_picker="page:3")
    body = response.content.decode()
    assert "101\N{EN DASH}120 of 120" in body and "Depot 0100" in body and "Depot 0000" not in body
    response = _post(owner_client, CREATE_KEY, facilities=ids, facilities_picker="page:99999999")
    assert "101\N{EN DASH}120 of 120" in response.content.decode()


def test_the_member_form_redraws_too(owner, account, second_facility):
    client = confirmed(signed_in(owner))
    member = MembershipFactory(account=account, role=Role.CLIENT_PERSONNEL)
    response = client.post(
        reverse("team:member_edit", args=[member.pk]),
        {"name": "Pat", "facilities_q": "eastside", "facilities_picker": "search"},
    )
    assert response.status_code == 200
    assert f'value="add:{second_facility.facility_id}"' in response.content.decode()
    member.refresh_from_db()
    assert member.all_facilities  # nothing saved
