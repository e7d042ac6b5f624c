from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from davinci.accounts.models import Account, Membership, Role, User
from facilities.models import Facility, Lock, LockEvent, LockStatus
from facilities.release.services import units_with_released_lock


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (User, Account, Membership, Facility, Lock, LockEvent)
    )


def test_seed_demo_is_idempotent_and_complete(db, settings):
    settings.DEBUG = True
    output = _seed()
    first = _counts()
    _seed()
    assert _counts() == first
    assert "owner@example.com" in output and "davinci-demo" in output

    harbor = Account.objects.get(slug="harbor-self-storage")
    rival = Account.objects.get(slug="rival-storage")
    assert harbor.facilities.count() == 3
    assert harbor.facilities.filter(include_in_api=False).count() == 1
    assert rival.facilities.count() == 2
    for facility in Facility.objects.all():
        assert facility.units.count() >= 40
        statuses = set(facility.locks.values_list("status", flat=True))
        assert statuses == set(LockStatus.values)
    roles = {m.role for m in harbor.memberships.all()}
    assert roles == set(Role.values)
    downtown = harbor.memberships.get(user__email="downtown@example.com")
    assert not downtown.all_facilities
    assert [f.name for f in downtown.facilities.all()] == ["Harbor Downtown"]
    assert User.objects.get(email="staff@example.com").is_staff


def test_seed_demo_leaves_a_released_unit_for_the_release_page(db, settings):
    settings.DEBUG = True
    _seed()
    downtown = Facility.objects.get(name="Harbor Downtown")
    units = units_with_released_lock(downtown)
    released = {u.unit_number: u.tenant_email for u in units if u.released_lock_id}
    assert released["B137"] == "harper.hd37@example.com"
    assert sorted(released) == ["A138", "A140", "A142", "B137", "B139", "B141"]


def test_seed_demo_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        _seed()


def test_the_demo_totp_user_signs_in_with_the_readme_key(db, settings, client):
    """README.md gives the key; with it the demo user (and staff, for the admin) gets in."""
    import pyotp
    from django.urls import reverse

    from integrations.management.commands.seed_demo import DEMO_PASSWORD, DEMO_TOTP_KEY

    settings.DEBUG = True
    _seed()
    _seed()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    assert TOTPDevice.objects.filter(user__email="totp@example.com", confirmed=True).count() == 1
    readme = (settings.BASE_DIR / "README.md").read_text()
    assert DEMO_TOTP_KEY in readme and "totp@example.com" in readme
    answer = client.post(
        reverse("accounts:login"), {"username": "totp@example.com", "password": DEMO_PASSWORD}
    )
    assert answer.url == reverse("accounts:sign_in_second_step")
    answer = client.post(
        reverse("accounts:sign_in_second_step"), {"code": pyotp.TOTP(DEMO_TOTP_KEY).now()}
    )
    assert answer.status_code == 302
    assert client.get(reverse("facilities:facility_list")).status_code == 200
    # The other demo users keep signing in with the password alone.
    other = client.__class__()
    answer = other.post(
        reverse("accounts:login"), {"username": "owner@example.com", "password": DEMO_PASSWORD}
    )
    assert answer.url == reverse("home")
