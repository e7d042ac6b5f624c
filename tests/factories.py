"""The cast of the test suite. Related objects always stay inside one account."""

import factory
from factory.django import DjangoModelFactory

from davinci.accounts.models import Account, Membership, Role, User
from facilities.models import Facility, Lock, LockStatus, Unit

PASSWORD = "correct horse battery staple"


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Storage Company {n}")
    slug = factory.Sequence(lambda n: f"storage-company-{n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    account = factory.SubFactory(AccountFactory)
    role = Role.OWNER


class FacilityFactory(DjangoModelFactory):
    class Meta:
        model = Facility

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Facility {n}")
    address = factory.Sequence(lambda n: f"{n} Main Street")


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = Unit

    facility = factory.SubFactory(FacilityFactory)
    unit_number = factory.Sequence(lambda n: f"U{n:04d}")
    tenant_name = factory.Faker("name")
    tenant_email = factory.Sequence(lambda n: f"tenant{n}@example.com")
    tenant_phone = factory.Sequence(lambda n: f"+1603555{n % 10000:04d}")


class LockFactory(DjangoModelFactory):
    """An available lock in a facility's inventory; pass `unit=` and a status to assign it."""

    class Meta:
        model = Lock
        exclude = ["code"]

    facility = factory.SubFactory(FacilityFactory)
    account = factory.SelfAttribute("facility.account")
    serial = factory.Sequence(lambda n: f"SN{n:06d}")
    status = LockStatus.AVAILABLE
    unit = None
    code = factory.Sequence(lambda n: f"{(n * 7919) % 10000:04d}")
    unlock_code_encrypted = factory.LazyAttribute(lambda o: _encrypt(o.code))


def _encrypt(code: str) -> str:
    from davinci import crypto

    return crypto.encrypt(code)


def assigned_lock(unit: Unit, status: LockStatus = LockStatus.ASSIGNED_OVERLOCK, **kwargs) -> Lock:
    return LockFactory(facility=unit.facility, unit=unit, status=status, **kwargs)


class ApiKeyFactory(DjangoModelFactory):
    """An active key for all facilities. The plain secret is on `key.plain_secret`."""

    class Meta:
        model = "integrations.ApiKey"
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    name = "Call Center"
    api_key = factory.LazyFunction(lambda: _secrets().generate_api_key())
    secret = factory.LazyFunction(lambda: _secrets().generate_api_secret())
    secret_digest = factory.LazyAttribute(lambda o: _secrets().secret_digest(o.secret))
    secret_encrypted = factory.LazyAttribute(lambda o: _encrypt(o.secret))
    all_facilities = True

    @classmethod
    def _create(cls, model_class, *args, secret: str, **kwargs):
        key = super()._create(model_class, *args, **kwargs)
        key.plain_secret = secret
        return key

    @factory.post_generation
    def facilities(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.all_facilities = False
            obj.save(update_fields=["all_facilities"])
            obj.facilities.set(extracted)


def _secrets():
    from integrations import secrets

    return secrets


class TOTPDeviceFactory(DjangoModelFactory):
    """A confirmed authenticator app: `pyotp.TOTP(device.b32_key)` computes its codes."""

    class Meta:
        model = "otp_totp.TOTPDevice"

    user = factory.SubFactory("tests.factories.UserFactory")
    name = "Authenticator app"
    confirmed = True


def totp_b32_key(device) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode()


class PasskeyFactory(DjangoModelFactory):
    """A stored passkey (no real key pair: enough for lists, names and removal)."""

    class Meta:
        model = "django_otp_webauthn.WebAuthnCredential"

    user = factory.SubFactory("tests.factories.UserFactory")
    name = "Work laptop"
    confirmed = True
    credential_id = factory.Sequence(lambda n: f"credential-{n}".encode())
    public_key = b"not-a-real-key"
    aaguid = "00000000-0000-0000-0000-000000000000"


class WebhookEndpointFactory(DjangoModelFactory):
    """An active endpoint for every event and All Facilities. The plain secret is on
    `endpoint.plain_secret`."""

    class Meta:
        model = "webhooks.Endpoint"
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    url = "https://hooks.example.com/davinci"
    event_types = factory.LazyFunction(
        lambda: ["automation.ran", "lock.status_changed", "overlock.released", "release_code.sent"]
    )
    all_facilities = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from webhooks.secrets import generate_secret

        endpoint = model_class(*args, **kwargs)
        endpoint.plain_secret = generate_secret()
        endpoint.set_secret(endpoint.plain_secret)
        endpoint.save()
        return endpoint
