import time

import pytest
from django.test import Client

from davinci.accounts.decorators import CONFIRMED_AT as PASSWORD_CONFIRMED_AT
from tests.factories import ApiKeyFactory


@pytest.fixture
def api_key(account, owner):
    return ApiKeyFactory(account=account, name="Call Center", created_by=owner)


@pytest.fixture
def other_api_key(other_account):
    return ApiKeyFactory(account=other_account, name="Rival Call Center")


def confirm_password_in_session(client: Client, seconds_ago: float = 0) -> None:
    session = client.session
    session[PASSWORD_CONFIRMED_AT] = time.time() - seconds_ago
    session.save()
