"""Who acts on a lock: the lock services take an Actor (a portal user, an API key with its
address, an automation rule) and every LockEvent they write, the tenant notice's included,
names it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from davinci.outbox.models import Notice as OutboxNotice
from davinci.outbox.tasks import notice_send
from facilities import notices, services
from facilities.history import Actor
from facilities.models import LockEvent, LockStatus
from tests.factories import ApiKeyFactory

IP = "192.0.2.44"


@pytest.fixture
def api_key(account):
    return ApiKeyFactory(account=account)


def test_a_release_by_an_api_key_names_the_key_and_its_address(overlocked, api_key):
    services.lock_release(lock=overlocked, actor=Actor.for_api_key(api_key, ip=IP))
    event = LockEvent.objects.get(lock=overlocked)
    assert (event.kind, event.actor_type) == (LockEvent.Kind.RELEASED, LockEvent.Actor.API_KEY)
    assert (event.api_key, event.actor_user, event.ip) == (api_key, None, IP)
    assert (event.from_status, event.to_status) == ("assigned_overlock", "returned_to_dropbox")


def test_a_status_change_by_an_automation_names_the_rule(overlocked):
    actor = Actor.for_automation(automation_id=7, name="Payment releases the overlock")
    services.lock_status_change(lock=overlocked, status=LockStatus.RETURNED_TO_DROPBOX, actor=actor)
    event = LockEvent.objects.get(lock=overlocked)
    assert event.actor_type == LockEvent.Actor.AUTOMATION == "automation"
    assert event.get_actor_type_display() == "Automation"
    assert (event.api_key, event.actor_user, event.ip) == (None, None, None)
    assert event.details == {"automation_id": 7, "automation": "Payment releases the overlock"}


def test_a_release_by_a_user_is_as_before(overlocked, owner):
    services.lock_release(lock=overlocked, actor=Actor.for_user(owner, ip=IP))
    event = LockEvent.objects.get(lock=overlocked)
    assert (event.actor_type, event.actor_user, event.ip) == ("user", owner, IP)


@pytest.mark.parametrize("who", ["user", "api_key", "automation"])
def test_the_tenant_notice_names_who_asked_for_it(
    overlocked, owner, api_key, who, django_capture_on_commit_callbacks, mailoutbox
):
    actor = {
        "user": Actor.for_user(owner, ip=IP),
        "api_key": Actor.for_api_key(api_key, ip=IP),
        "automation": Actor.for_automation(automation_id=3, name="Paid"),
    }[who]
    with django_capture_on_commit_callbacks(execute=True):
        released = services.lock_release(lock=overlocked, actor=actor)
        notices.tenant_notice_send(
            lock=released, notice=notices.Notice.DELINQUENCY_PAID, actor=actor
        )
    assert "2468" in mailoutbox[0].body
    sent = LockEvent.objects.get(kind=LockEvent.Kind.CODE_SENT)
    assert sent.actor_type == who
    assert (sent.actor_user, sent.api_key) == (actor.user, actor.api_key)
    assert sent.ip == actor.ip
    assert sent.details["notice"] == "delinquency_paid"
    if who == "automation":
        assert sent.details["automation"] == "Paid"


def test_a_notice_queued_before_actors_existed_still_names_its_member(
    overlocked, owner, mailoutbox
):
    services.lock_release(lock=overlocked, actor=Actor.for_user(owner, ip=IP))
    queued = OutboxNotice.objects.create(
        kind="tenant_code",
        arguments={
            "lock_id": overlocked.pk,
            "unit_id": overlocked.unit_id,
            "notice": "delinquency_paid",
            "channel": "email",
            "user_id": owner.pk,
            "ip": IP,
        },
        due_at=overlocked.updated_at,
    )
    notice_send(queued.pk)
    sent = LockEvent.objects.get(kind=LockEvent.Kind.CODE_SENT)
    assert (sent.actor_type, sent.actor_user, sent.ip) == ("user", owner, IP)
    assert len(mailoutbox) == 1


def test_an_actor_survives_the_outbox(owner, api_key):
    for actor in (
        Actor.for_user(owner, ip=IP),
        Actor.for_api_key(api_key, ip=None),
        Actor.for_automation(automation_id=9, name="Move-out"),
    ):
        assert Actor.from_ids(**actor.to_ids()) == actor


def test_the_lock_history_names_the_key_and_the_automation(owner_client, overlocked, api_key):
    released = services.lock_release(lock=overlocked, actor=Actor.for_api_key(api_key, ip=IP))
    services.lock_status_change(
        lock=released,
        status=LockStatus.TENANT_USING_LOCK,
        actor=Actor.for_automation(automation_id=4, name="Move-in"),
    )
    body = owner_client.get(reverse("facilities:lock_detail", args=[overlocked.pk])).content
    body = body.decode()
    assert f"API key “{api_key.name}”" in body and api_key.api_key in body and IP in body
    assert "Automation “Move-in”" in body
