import time

import pytest
from django.test import Client

from integrations.views import PASSWORD_CONFIRMED_AT
from tests.conftest import signed_in
from tests.factories import ApiKeyFactory


@pytest.fixture
def api_key(account, owner):
    return ApiKeyFactory(account=account, name="Call Center", created_by=owner)


@pytest.fixture
def other_api_key(other_account):
    return ApiKeyFactory(account=other_account, name="Rival Call Center")


@pytest.fixture
def admin_client(admin_user) -> Client:
    return signed_in(admin_user)


@pytest.fixture
def manager_client(manager) -> Client:
    return signed_in(manager)


@pytest.fixture
def call_center_client(call_center_user) -> Client:
    return signed_in(call_center_user)


def confirm_password_in_session(client: Client, seconds_ago: float = 0) -> None:
    session = client.session
    session[PASSWORD_CONFIRMED_AT] = time.time() - seconds_ago
    session.save()
