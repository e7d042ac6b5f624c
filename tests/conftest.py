import pytest
from django.test import Client

from davinci.accounts.models import Role
from tests.factories import (
    PASSWORD,
    AccountFactory,
    FacilityFactory,
    LockFactory,
    MembershipFactory,
    UnitFactory,
)


@pytest.fixture(scope="session", autouse=True)
def _no_stray_database_sessions(django_db_setup, django_db_blocker):
    """Live-server threads that served a keep-alive connection can still hold a PostgreSQL
    session when the run ends, and PostgreSQL refuses to drop a database in use: end those
    sessions (never this one) so the test database is torn down cleanly."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and throttles live in the cache: no test inherits another's counts."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _outbox_after_response_in_the_test_thread(request, monkeypatch):
    """In-process, a notice handed on after the response runs on a thread of its own
    (davinci/outbox/after_response.py). A test's data lives in its own transaction, which no
    other thread sees: here that work runs in the test's thread, as soon as the response is
    closed. Tests that ask for `background_threads` (transactional, committed data) keep the
    real threads."""
    if "background_threads" in request.fixturenames:
        return
    from davinci.outbox import after_response

    monkeypatch.setattr(after_response, "in_background", lambda function, *args: function(*args))


@pytest.fixture
def background_threads(monkeypatch):
    """The real threads of in-process notices, recorded: `background_threads.join()` waits
    for every one started so far."""
    from davinci.outbox import after_response

    class Started(list):
        def join(self) -> None:
            while self:
                self.pop().join(timeout=10)

    started = Started()
    real = after_response.in_background

    def recorded(function, *args):
        started.append(real(function, *args))

    monkeypatch.setattr(after_response, "in_background", recorded)
    yield started
    started.join()


@pytest.fixture
def account(db):
    return AccountFactory(name="Harbor Self Storage", slug="harbor-self-storage")


@pytest.fixture
def other_account(db):
    return AccountFactory(name="Rival Storage", slug="rival-storage")


def _member(account, role: Role, email: str):
    return MembershipFactory(account=account, role=role, user__email=email).user


@pytest.fixture
def owner(account):
    return _member(account, Role.OWNER, "owner@example.com")


@pytest.fixture
def admin_user(account):
    return _member(account, Role.CLIENT_ADMIN, "admin@example.com")


@pytest.fixture
def manager(account):
    return _member(account, Role.CLIENT_PERSONNEL, "manager@example.com")


@pytest.fixture
def call_center_user(account):
    return _member(account, Role.CLIENT_CALL_CENTER, "callcenter@example.com")


@pytest.fixture
def restricted_user(account):
    """Client Personnel (Restricted): no Tenant Using Lock or Assigned Auction codes."""
    return _member(account, Role.CLIENT_PERSONNEL_RESTRICTED, "restricted@example.com")


@pytest.fixture
def second_facility(account):
    return FacilityFactory(account=account, name="Harbor Eastside")


@pytest.fixture
def facility_restricted_admin(account, second_facility):
    """A Client Admin with access to Harbor Eastside only (not to the `facility` fixture)."""
    membership = MembershipFactory(
        account=account,
        role=Role.CLIENT_ADMIN,
        all_facilities=False,
        user__email="eastside@example.com",
    )
    membership.facilities.set([second_facility])
    return membership.user


@pytest.fixture
def other_account_owner(other_account):
    return _member(other_account, Role.OWNER, "rival@example.com")


@pytest.fixture
def facility(account):
    return FacilityFactory(account=account, name="Harbor Downtown")


@pytest.fixture
def other_facility(other_account):
    return FacilityFactory(account=other_account, name="Rival North")


@pytest.fixture
def unit(facility):
    return UnitFactory(facility=facility, unit_number="A101")


@pytest.fixture
def lock(facility):
    return LockFactory(facility=facility, serial="HD000001", code="1234")


@pytest.fixture
def password() -> str:
    return PASSWORD


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner) -> Client:
    return signed_in(owner)


@pytest.fixture
def admin_client(admin_user) -> Client:
    """The account's admin (a role), not pytest-django's superuser client of the same name."""
    return signed_in(admin_user)


@pytest.fixture
def manager_client(manager) -> Client:
    return signed_in(manager)


@pytest.fixture
def call_center_client(call_center_user) -> Client:
    return signed_in(call_center_user)


@pytest.fixture
def restricted_client(restricted_user) -> Client:
    return signed_in(restricted_user)


@pytest.fixture
def facility_restricted_client(facility_restricted_admin) -> Client:
    return signed_in(facility_restricted_admin)


@pytest.fixture
def other_owner_client(other_account_owner) -> Client:
    return signed_in(other_account_owner)


def confirmed(client: Client, seconds_ago: float = 0) -> Client:
    """The client's user confirmed it is them `seconds_ago` (@recently_confirmed)."""
    import time

    from davinci.accounts.decorators import CONFIRMED_AT

    session = client.session
    session[CONFIRMED_AT] = time.time() - seconds_ago
    session.save()
    return client


def verified(client: Client, user) -> Client:
    """The client's session passed a second factor (an authenticator app made for `user`), as
    the Django admin requires of staff."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from tests.factories import TOTPDeviceFactory

    device = TOTPDeviceFactory(user=user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def staff_signed_in(user) -> Client:
    """Platform staff in the Django admin: signed in with two-factor."""
    return verified(signed_in(user), user)
