"""Reveal in place: Reveal on a facility's Units or Locks tab answers that list again (its
filter and page kept) with the code in the lock's row; without `next` the lock page answers."""

import pytest
from django.urls import reverse

from facilities.models import LockEvent, LockStatus
from tests.conftest import confirmed
from tests.factories import PASSWORD, LockFactory, UnitFactory, assigned_lock


@pytest.fixture
def many_units(facility, monkeypatch):
    """Five units B1..B5, each with an overlocked lock, two per page."""
    monkeypatch.setattr("facilities.views.common.PER_PAGE", 2)
    UnitFactory(facility=facility, unit_number="A1")  # filtered out by q=B
    locks = []
    for n in range(1, 6):
        unit = UnitFactory(facility=facility, unit_number=f"B{n}")
        locks.append(assigned_lock(unit, serial=f"HD00010{n}", code=f"{n}{n}{n}{n}"))
    return locks


def _reveal(client, lock, next_url, *, confirm=True, **fields):
    if confirm:
        confirmed(client)  # @recently_confirmed: the user confirmed it is them just now
    return client.post(
        reverse("facilities:lock_reveal", args=[lock.pk]),
        {"next": next_url, **fields},
        REMOTE_ADDR="192.0.2.9",
    )


def test_the_confirmation_asked_first_carries_the_list_through(owner_client, facility, many_units):
    """Without a recent confirmation the reveal asks for the password, keeping `next`; the
    confirmed post then answers the list in place, code in its row."""
    lock = many_units[2]
    list_url = reverse("facilities:facility_detail", args=[facility.pk]) + "?q=B&page=2"
    asked = _reveal(owner_client, lock, list_url, confirm=False)
    assert asked.status_code == 200 and "Confirm it is you" in asked.content.decode()
    assert lock.unlock_code not in asked.content.decode()
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_REVEALED).exists()
    answered = _reveal(owner_client, lock, list_url, confirm=False, password=PASSWORD)
    assert answered.status_code == 200
    assert answered.context["revealed"] == {"lock_id": lock.pk, "code": lock.unlock_code}
    assert answered.context["page"].number == 2


def test_reveal_on_the_units_tab_keeps_the_filter_and_page(owner_client, facility, many_units):
    lock = many_units[2]  # B3: the first row of page 2 of q=B
    list_url = reverse("facilities:facility_detail", args=[facility.pk]) + "?q=B&page=2"
    response = _reveal(owner_client, lock, list_url)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response.templates[0].name == "facilities/facility_detail.html"
    assert [unit.unit_number for unit in response.context["page"]] == ["B3", "B4"]
    assert response.context["form"].cleaned_data["q"] == "B"
    body = response.content.decode()
    assert ">3333<" in body and "4444" not in body
    event = LockEvent.objects.get(lock=lock)
    assert (event.kind, event.ip) == (LockEvent.Kind.CODE_REVEALED, "192.0.2.9")
    # The filter form and the page links go to the list, not back to the reveal URL.
    list_path = reverse("facilities:facility_detail", args=[facility.pk])
    assert f'action="{list_path}"' in body
    assert f'href="{list_path}?q=B&amp;page=1"' in body


def test_reveal_on_the_locks_tab_keeps_the_list(owner_client, facility, many_units):
    locks_url = reverse("facilities:facility_locks", args=[facility.pk])
    list_url = f"{locks_url}?status=assigned_overlock"
    response = _reveal(owner_client, many_units[0], list_url)

    assert response.templates[0].name == "facilities/facility_locks.html"
    assert [lock.serial for lock in response.context["page"]] == ["HD000101", "HD000102"]
    assert ">1111<" in response.content.decode()
    assert LockEvent.objects.filter(lock=many_units[0], kind="code_revealed").count() == 1


def test_the_list_rows_post_their_list_as_next(owner_client, facility, many_units):
    list_url = reverse("facilities:facility_detail", args=[facility.pk]) + "?q=B&page=2"
    body = owner_client.get(list_url).content.decode()
    assert 'name="next" value="{}"'.format(list_url.replace("&", "&amp;")) in body
    assert "1111" not in body and "3333" not in body


@pytest.mark.parametrize(
    "next_url",
    [
        "",  # no list: the lock page, as before
        "https://evil.example/",
        "/facilities/",  # a list that is not this lock's units or locks
        "/no/such/page/",
        "not-a-path",
    ],
)
def test_any_other_next_answers_the_lock_page(owner_client, many_units, next_url):
    response = _reveal(owner_client, many_units[0], next_url)
    assert response.status_code == 200
    assert response.templates[0].name == "facilities/lock_detail.html"
    assert ">1111<" in response.content.decode()


def test_next_of_another_facility_answers_the_lock_page(owner_client, many_units, second_facility):
    list_url = reverse("facilities:facility_locks", args=[second_facility.pk])
    response = _reveal(owner_client, many_units[0], list_url)
    assert response.templates[0].name == "facilities/lock_detail.html"


def test_a_bad_page_or_filter_in_next_is_no_500(owner_client, facility, many_units):
    list_url = reverse("facilities:facility_detail", args=[facility.pk]) + "?page=x&status=nope"
    response = _reveal(owner_client, many_units[0], list_url)
    assert response.status_code == 200
    assert response.templates[0].name == "facilities/facility_detail.html"
    assert "The filter was not understood" in response.content.decode()


def test_reveal_in_place_keeps_the_withheld_rule(call_center_client, facility):
    unit = UnitFactory(facility=facility, unit_number="C1")
    lock = LockFactory(
        facility=facility, unit=unit, status=LockStatus.ASSIGNED_AUCTION, code="1357"
    )
    list_url = reverse("facilities:facility_detail", args=[facility.pk])
    response = _reveal(call_center_client, lock, list_url)
    assert response.status_code == 403 and "1357" not in response.content.decode()
    assert not LockEvent.objects.exists()


def test_the_lock_page_drawn_by_a_reveal_pages_its_history_at_the_lock(
    owner_client, many_units, owner
):
    lock = many_units[0]
    LockEvent.objects.bulk_create(
        LockEvent(lock=lock, kind="code_revealed", actor_type="user", actor_user=owner)
        for _ in range(60)
    )
    body = _reveal(owner_client, lock, "").content.decode()
    lock_path = reverse("facilities:lock_detail", args=[lock.pk])
    assert f'href="{lock_path}?page=2"' in body  # not the reveal URL, which is POST only
