"""`manage.py rotate_encryption_keys` end to end, for API secrets and unlock codes together:
after rotating under a new key and removing the old one, every secret and code is still
readable (Show Key, the portal reveal, the API), nothing is readable with the old key alone,
and authentication never depended on the encryption key."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.test import Client

from facilities.models import Lock
from integrations import services
from integrations.models import ApiKey
from tests.conftest import signed_in
from tests.factories import PASSWORD, FacilityFactory, UnitFactory, assigned_lock


def _lookup(client: Client, facility, key: str, secret: str):
    return client.get(
        f"/api/v1/facilities/{facility.facility_id}/units/A101/",
        HTTP_X_API_KEY=key,
        HTTP_X_API_SECRET=secret,
    )


def test_rotation_keeps_every_secret_and_code_readable_after_the_old_key_is_gone(
    settings, account, owner
):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    facility = FacilityFactory(account=account)
    lock = assigned_lock(UnitFactory(facility=facility, unit_number="A101"), code="7391")
    created = [
        services.api_key_create(account=account, name=f"Key {n}", actor=owner, ip=None)
        for n in range(3)
    ]
    deleted = services.api_key_create(account=account, name="Gone", actor=owner, ip=None)
    services.api_key_delete(api_key=deleted.api_key, actor=owner, ip=None)
    before = dict(ApiKey.objects.values_list("pk", "secret_encrypted"))

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "integrations.ApiKey.secret_encrypted: 3 value(s) re-encrypted" in out.getvalue()
    assert "facilities.Lock.unlock_code_encrypted: 1 value(s) re-encrypted" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is removed
    old_only = Fernet(old_key)
    for new in created:
        key = ApiKey.objects.get(pk=new.api_key.pk)
        assert key.secret_encrypted != before[key.pk]
        with pytest.raises(InvalidToken):  # the old key alone opens nothing any more
            old_only.decrypt(key.secret_encrypted.encode())

    # Show Key still shows each secret; the API still accepts it and gives the code.
    owner_client = signed_in(owner)
    api = Client()
    for new in created:
        reveal = owner_client.post(
            f"/integrations/keys/{new.api_key.pk}/reveal/", {"password": PASSWORD}
        )
        assert new.secret in reveal.content.decode()
        response = _lookup(api, facility, new.api_key.api_key, new.secret)
        assert response.status_code == 200
        assert response.json()["data"]["lock"]["unlock_code"] == "7391"
    # The portal reveal reads the code under the new key too.
    page = owner_client.post(f"/facilities/locks/{lock.pk}/reveal/")
    assert "7391" in page.content.decode()
    assert Lock.objects.get(pk=lock.pk).unlock_code == "7391"

    # Running it again is harmless.
    call_command("rotate_encryption_keys", stdout=StringIO())
    assert _lookup(api, facility, created[0].api_key.api_key, created[0].secret).status_code == 200
