"""Facility access: a member with chosen facilities sees and changes only those, on every
screen (lists, search, history, CSV, release activity, Integrations, Activity)."""

from django.urls import reverse

from davinci.accounts.models import AuditEvent
from facilities.models import ReleaseAttempt
from integrations.models import ApiKey
from tests.factories import ApiKeyFactory, LockFactory, UnitFactory, WebhookEndpointFactory
from webhooks import services as webhook_services


def test_lists_and_search_show_only_their_facilities(
    facility_restricted_client, facility, second_facility
):
    UnitFactory(facility=facility, unit_number="HIDDEN1")
    LockFactory(facility=facility, serial="HIDE0001")
    UnitFactory(facility=second_facility, unit_number="SHOWN1")
    LockFactory(facility=second_facility, serial="SHOW0001")
    body = facility_restricted_client.get(reverse("facilities:facility_list")).content.decode()
    assert second_facility.name in body and facility.name not in body
    search = reverse("facilities:search")
    assert "SHOWN1" in facility_restricted_client.get(search, {"q": "OWN1"}).content.decode()
    body = facility_restricted_client.get(search, {"q": "HIDE"}).content.decode()
    assert "HIDDEN1" not in body and "HIDE0001" not in body
    assert facility_restricted_client.get(search, {"q": "HIDE0001"}).status_code == 200


def test_a_lock_elsewhere_cannot_be_moved_in(facility_restricted_client, facility, second_facility):
    LockFactory(facility=facility, serial="HIDE0001")
    unit = UnitFactory(facility=second_facility)
    response = facility_restricted_client.post(
        reverse("facilities:unit_assign_lock", args=[unit.pk]),
        {"lock": "HIDE0001", "status": "assigned_overlock"},
    )
    assert response.status_code == 200
    assert "Your account has no lock with this serial." in response.content.decode()


def test_integrations_show_only_keys_within_their_facilities(
    facility_restricted_client, account, facility, second_facility
):
    mine = ApiKeyFactory(account=account, name="Mine", facilities=[second_facility])
    ApiKeyFactory(account=account, name="Everything")
    ApiKeyFactory(account=account, name="Wider", facilities=[facility, second_facility])
    body = facility_restricted_client.get(reverse("integrations:api_settings")).content.decode()
    assert "Mine" in body and "Everything" not in body and "Wider" not in body
    assert (
        facility_restricted_client.get(
            reverse("integrations:api_key_detail", args=[mine.pk])
        ).status_code
        == 200
    )
    tab = facility_restricted_client.get(reverse("integrations:facility_list")).content.decode()
    assert second_facility.facility_id in tab and facility.facility_id not in tab


def test_a_restricted_admin_makes_keys_for_their_facilities_only(
    facility_restricted_client, facility, second_facility
):
    url = reverse("integrations:api_key_create")
    response = facility_restricted_client.post(url, {"name": "CC", "all_facilities": "on"})
    assert "Only a user with All Facilities" in response.content.decode()
    response = facility_restricted_client.post(
        url, {"name": "CC", "facilities": facility.facility_id}
    )
    assert response.status_code == 200 and "facilities" in response.context["form"].errors
    assert not ApiKey.objects.exists()
    response = facility_restricted_client.post(
        url, {"name": "CC", "permissions": "read", "facilities": second_facility.facility_id}
    )
    assert response.status_code == 302
    assert list(ApiKey.objects.get().facilities.all()) == [second_facility]


def test_the_key_service_refuses_a_wider_scope(facility_restricted_admin, account, facility):
    import pytest
    from django.core.exceptions import ValidationError

    from integrations import services

    membership = facility_restricted_admin.memberships.get()
    for kwargs in ({"all_facilities": True}, {"all_facilities": False, "facilities": [facility]}):
        with pytest.raises(ValidationError):
            services.api_key_create(
                account=account,
                name="CC",
                membership=membership,
                actor=facility_restricted_admin,
                ip=None,
                **kwargs,
            )


def test_activity_and_release_activity_show_only_their_facilities(
    facility_restricted_client, account, facility, second_facility
):
    for f in (facility, second_facility):
        AuditEvent.objects.create(
            account=account,
            action=AuditEvent.Action.FACILITY_EXCLUDED,
            target_type="facility",
            target_id=f.facility_id,
            target_repr=f"{f.name} ({f.facility_id})",
        )
        ReleaseAttempt.objects.create(
            account=account,
            facility=f,
            unit_number=f"{f.pk}-R",
            channel="email",
            contact="t@example.com",
            outcome="unknown_unit",
        )
    body = facility_restricted_client.get(reverse("integrations:activity")).content.decode()
    assert second_facility.facility_id in body and facility.facility_id not in body
    body = facility_restricted_client.get(reverse("facilities:release_activity")).content.decode()
    assert f"{second_facility.pk}-R" in body and f"{facility.pk}-R" not in body


def test_activity_shows_the_webhook_endpoints_within_their_facilities(
    facility_restricted_client, account, owner, facility, second_facility
):
    """As for keys: an endpoint that names only their facilities, never an All Facilities one
    or one that names a facility of someone else's."""
    theirs = WebhookEndpointFactory(
        account=account, url="https://hooks.example.com/theirs", all_facilities=False
    )
    theirs.facilities.set([second_facility])
    wider = WebhookEndpointFactory(
        account=account, url="https://hooks.example.com/wider", all_facilities=False
    )
    wider.facilities.set([facility, second_facility])
    everywhere = WebhookEndpointFactory(account=account, url="https://hooks.example.com/all")
    for endpoint in (theirs, wider, everywhere):
        webhook_services.endpoint_disable(endpoint=endpoint, actor=owner, ip=None)

    response = facility_restricted_client.get(reverse("integrations:activity"))
    shown = [event.target_repr for event in response.context["page"].object_list]
    assert shown == ["https://hooks.example.com/theirs"]
