"""The "Activity" tab: the account's AuditEvents, newest first, paginated."""

from django.urls import reverse

from davinci.accounts.models import AuditEvent
from integrations import services
from tests.factories import ApiKeyFactory

URL = reverse("integrations:activity")


def test_lists_the_accounts_events_newest_first(owner_client, owner, account, facility):
    key = ApiKeyFactory(account=account, name="Call Center")
    services.api_key_disable(api_key=key, actor=owner, ip="203.0.113.9")
    services.facility_set_included(
        facility=facility, include_in_api=False, actor=owner, ip="203.0.113.9"
    )
    other = ApiKeyFactory(account=ApiKeyFactory().account, name="Not ours")
    services.api_key_disable(api_key=other, actor=None, ip=None)

    response = owner_client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert [event.action for event in response.context["page"].object_list] == [
        AuditEvent.Action.FACILITY_EXCLUDED,
        AuditEvent.Action.KEY_DISABLED,
    ]
    assert "Facility excluded from API" in page and "API key disabled" in page
    assert key.api_key in page and "203.0.113.9" in page
    assert "Not ours" not in page


def test_activity_is_paginated(owner_client, owner, account, django_assert_max_num_queries):
    AuditEvent.objects.bulk_create(
        AuditEvent(account=account, actor=owner, action=AuditEvent.Action.KEY_EDITED)
        for _ in range(120)
    )
    owner_client.get(URL)
    with django_assert_max_num_queries(7):
        response = owner_client.get(URL, {"page": 3})
    assert len(response.context["page"].object_list) == 20
    assert "Page 3 of 3" in response.content.decode()


def test_an_empty_log_says_so(owner_client):
    assert b"Nothing yet" in owner_client.get(URL).content


def test_an_unknown_page_number_shows_the_last_page(owner_client):
    assert owner_client.get(URL, {"page": "abc"}).status_code == 200
