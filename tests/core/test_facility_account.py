"""Finding 8: a facility's account never changes once it is created (its units and locks
could not follow it, and the other account's keys would read its codes): the model refuses
it and the Django admin offers no way to try."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from davinci.accounts.models import User
from facilities.models import Facility
from tests.conftest import staff_signed_in


@pytest.fixture
def staff_client(db):
    return staff_signed_in(User.objects.create_superuser("staff@example.com", "x"))


def test_the_model_refuses_to_move_a_facility_to_another_account(facility, other_account):
    facility.account = other_account
    with pytest.raises(ValidationError) as raised:
        facility.full_clean()
    assert raised.value.error_dict["account"][0].code == "account_fixed"


def test_a_new_facility_may_name_any_account(other_account):
    Facility(account=other_account, name="New").full_clean()


def test_the_admin_cannot_move_a_facility(staff_client, facility, other_account):
    url = reverse("admin:facilities_facility_change", args=[facility.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    assert 'name="account"' not in page.content.decode()

    staff_client.post(
        url,
        {"account": other_account.pk, "name": facility.name, "address": "", "include_in_api": "on"},
    )

    facility.refresh_from_db()
    assert facility.account_id != other_account.pk


def test_the_admin_still_chooses_the_account_of_a_new_facility(staff_client, other_account):
    page = staff_client.get(reverse("admin:facilities_facility_add"))
    assert 'name="account"' in page.content.decode()
