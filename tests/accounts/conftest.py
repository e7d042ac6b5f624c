import pyotp
import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from davinci.accounts.two_factor import services
from tests.factories import totp_b32_key
from tests.team.conftest import outbox  # noqa: F401  (the fixture)


class TwoFactor:
    """A user's authenticator app (codes by pyotp) and their recovery codes."""

    def __init__(self, user) -> None:
        device = services.totp_device_pending(user=user)
        self.totp = pyotp.TOTP(totp_b32_key(device))
        self.codes = services.totp_confirm(user=user, device=device, token=self.totp.now(), ip=None)
        self.device = device

    def client(self, *, confirmed_lately: bool = False):
        """A client of the user signed in with this app (the session verified)."""
        from django_otp import DEVICE_ID_SESSION_KEY

        from tests.conftest import confirmed, signed_in

        client = signed_in(self.device.user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = self.device.persistent_id
        session.save()
        return confirmed(client) if confirmed_lately else client

    def code(self) -> str:
        """The app's current code. A device accepts each time step once (a code seen is not
        taken again), so the test forgets the steps it used: a later step, in real life."""
        TOTPDevice.objects.filter(pk=self.device.pk).update(last_t=-1)
        return self.totp.now()


@pytest.fixture
def owner_2fa(owner):
    return TwoFactor(owner)


def password_step(client, user, password):
    """The sign-in's first step: the right password."""
    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": password}
    )
    assert response.status_code == 302 and response.url == reverse("accounts:sign_in_second_step")
    return response
