"""Acceptance of issue 24: a change in the portal reaches a real receiver, signed; failures are
retried in order; a broker that is down loses nothing; a rolled-back change sends nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from facilities import services as facility_services
from facilities.history import Actor
from facilities.models import LockStatus
from tests.factories import FacilityFactory, UnitFactory, WebhookEndpointFactory, assigned_lock
from webhooks import delivery, events, services, tasks
from webhooks.models import Attempt, Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db


def _verify(endpoint, request) -> dict:
    """What a receiver does: the raw body and the headers, checked with the secret."""
    return Webhook(endpoint.plain_secret).verify(request.body, request.headers)


def test_release_overlock_in_the_portal_delivers_one_signed_request(
    owner_client, endpoint, receiver, unit, django_capture_on_commit_callbacks
):
    endpoint.event_types = ["overlock.released"]
    endpoint.save()
    lock = assigned_lock(unit)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("facilities:lock_release", args=[lock.pk]))
    assert response.status_code == 302
    assert len(receiver.requests) == 1
    payload = _verify(endpoint, receiver.requests[0])
    assert payload["type"] == "overlock.released"
    assert payload["data"]["serial"] == lock.serial
    assert payload["data"]["unit_number"] == unit.unit_number
    assert payload["data"]["facility_id"] == unit.facility.facility_id
    assert payload["data"]["to_status"]["value"] == LockStatus.RETURNED_TO_DROPBOX
    log = owner_client.get(reverse("webhooks:endpoint_log", args=[endpoint.pk]))
    assert log.status_code == 200
    assert ">200</span>" in log.content.decode()
    assert "overlock.released" in log.content.decode()


def test_a_release_is_also_a_status_change(endpoint, receiver, unit, owner):
    lock = assigned_lock(unit)
    with transaction.atomic():
        facility_services.lock_release(lock=lock, actor=Actor.for_user(owner, ip=None))
    assert sorted(Event.objects.values_list("type", flat=True)) == [
        "lock.status_changed",
        "overlock.released",
    ]


def test_send_test_event_delivers_a_signed_request(
    owner_client, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("webhooks:endpoint_test", args=[endpoint.pk]))
    assert response.status_code == 302
    assert len(receiver.requests) == 1
    payload = _verify(endpoint, receiver.requests[0])
    assert payload["type"] == "webhook.test"
    assert receiver.requests[0].path == "/hooks"
    attempt = Attempt.objects.get()
    assert attempt.status_code == 200 and attempt.succeeded
    log = owner_client.get(reverse("webhooks:endpoint_log", args=[endpoint.pk]))
    assert "webhook.test" in log.content.decode()


def _due_now(endpoint: Endpoint) -> None:
    """The backoff is over (instead of waiting for it)."""
    Endpoint.objects.filter(pk=endpoint.pk).update(retry_at=timezone.now() - timedelta(seconds=1))


def test_three_failures_then_success_are_four_attempts_and_one_delivery(
    endpoint, receiver, facility
):
    receiver.answers = [500, 500, 500, 200]
    event = events.test_publish(endpoint=endpoint)
    waits = []
    for _ in range(4):
        _due_now(endpoint)
        waits.append(delivery.endpoint_deliver(endpoint.pk))
    assert waits == [30.0, 120.0, 600.0, None]
    assert len(receiver.requests) == 4
    ids = {request.headers["webhook-id"] for request in receiver.requests}
    assert ids == {event.message_id}  # the same message each time
    attempts = list(Attempt.objects.order_by("id"))
    assert [a.status_code for a in attempts] == [500, 500, 500, 200]
    assert [a.number for a in attempts] == [1, 2, 3, 4]
    assert len(attempts[0].response_body) == Attempt.RESPONSE_KEPT  # the first 2 KB
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED
    endpoint.refresh_from_db()
    assert (endpoint.failures, endpoint.retry_at, endpoint.failing_since) == (0, None, None)


def test_while_the_endpoint_backs_off_nothing_is_sent_and_order_holds(endpoint, receiver):
    receiver.answers = [500]
    first = events.test_publish(endpoint=endpoint)
    assert delivery.endpoint_deliver(endpoint.pk) == 30.0
    second = events.test_publish(endpoint=endpoint)
    assert delivery.endpoint_deliver(endpoint.pk) is None  # backing off: not claimed
    assert len(receiver.requests) == 1
    _due_now(endpoint)
    delivery.endpoint_deliver(endpoint.pk)
    ids = [request.headers["webhook-id"] for request in receiver.requests]
    assert ids == [first.message_id, first.message_id, second.message_id]


def test_one_request_in_flight_per_endpoint(endpoint, receiver):
    events.test_publish(endpoint=endpoint)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        lease_until=timezone.now() + timedelta(seconds=30)
    )
    assert delivery.endpoint_deliver(endpoint.pk) is None
    assert receiver.requests == []


def test_a_delivery_failing_for_a_day_is_given_up_and_the_next_goes(endpoint, receiver):
    receiver.answers = [500]
    events.test_publish(endpoint=endpoint)
    events.test_publish(endpoint=endpoint)
    Delivery.objects.filter(pk=Delivery.objects.order_by("id").first().pk).update(
        give_up_at=timezone.now()
    )
    delivery.endpoint_deliver(endpoint.pk)
    _due_now(endpoint)
    delivery.endpoint_deliver(endpoint.pk)
    statuses = list(Delivery.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [Delivery.Status.FAILED, Delivery.Status.DELIVERED]


def test_three_days_of_failures_disable_the_endpoint_and_email_the_owners(
    endpoint, receiver, owner, mailoutbox, django_capture_on_commit_callbacks
):
    receiver.answers = [503]
    events.test_publish(endpoint=endpoint)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=3, minutes=1), failures=12
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.endpoint_deliver(endpoint.pk) is None
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_reason == Endpoint.DisabledReason.FAILING
    [email] = mailoutbox
    assert email.to == [owner.email]
    assert endpoint.url in email.body and "HTTP 503" in email.body
    assert endpoint.plain_secret not in email.body
    # Disabled: a new change writes nothing for it.
    assert events.endpoints_wanting(account_id=endpoint.account_id, facility=None, type="x") == []


def test_with_the_broker_down_the_event_waits_and_the_sweep_delivers_it(
    endpoint, receiver, unit, owner, monkeypatch, request, django_capture_on_commit_callbacks
):
    """Production-like: tasks go to a broker (not run in-process). The broker refuses the
    change's dispatch; the row waits; once the broker is back the beat sweep hands the
    endpoint to a worker, which delivers."""
    conf = tasks.deliver.app.conf
    saved = conf.task_always_eager
    conf.task_always_eager = False
    request.addfinalizer(lambda: setattr(conf, "task_always_eager", saved))

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.deliver, "apply_async", broker_down)
    lock = assigned_lock(unit)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        facility_services.lock_release(lock=lock, actor=Actor.for_user(owner, ip=None))
    assert receiver.requests == []
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 2

    worked = []

    def broker_back(args, countdown=None):
        worked.append(args)
        tasks.deliver.run(*args)  # what the worker runs when it takes the task

    monkeypatch.setattr(tasks.deliver, "apply_async", broker_back)
    assert tasks.webhooks_sweep() == 0  # within the grace: maybe still on its way
    Delivery.objects.update(created_at=timezone.now() - delivery.SWEEP_GRACE * 2)
    assert tasks.webhooks_sweep() == 1
    assert worked == [(endpoint.pk,)]
    types = [json.loads(request.body)["type"] for request in receiver.requests]
    assert types == ["lock.status_changed", "overlock.released"]
    assert not Delivery.objects.filter(status=Delivery.Status.PENDING).exists()


def test_a_rolled_back_change_writes_and_sends_nothing(
    endpoint, receiver, unit, owner, django_capture_on_commit_callbacks
):
    lock = assigned_lock(unit)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        facility_services.lock_release(lock=lock, actor=Actor.for_user(owner, ip=None))
        assert Event.objects.count() == 2  # written in the change's transaction
        raise RuntimeError("the request failed after the change")
    assert Event.objects.count() == 0
    assert callbacks == []
    assert receiver.requests == []


def test_events_of_facilities_outside_the_scope_are_not_written(
    account, receiver, unit, owner, second_facility
):
    chosen = WebhookEndpointFactory(account=account, url=receiver.url, all_facilities=False)
    chosen.facilities.set([second_facility])
    everywhere = WebhookEndpointFactory(account=account, url=receiver.url)
    facility_services.lock_release(lock=assigned_lock(unit), actor=Actor.for_user(owner, ip=None))
    assert set(Delivery.objects.values_list("endpoint_id", flat=True)) == {everywhere.pk}
    other_unit = UnitFactory(facility=second_facility)
    facility_services.lock_release(
        lock=assigned_lock(other_unit), actor=Actor.for_user(owner, ip=None)
    )
    assert Delivery.objects.filter(endpoint=chosen).count() == 2


def test_a_facility_out_of_the_api_sends_nothing(endpoint, unit, owner):
    unit.facility.include_in_api = False
    unit.facility.save()
    facility_services.lock_release(lock=assigned_lock(unit), actor=Actor.for_user(owner, ip=None))
    assert Event.objects.count() == 0


def test_another_accounts_change_reaches_none_of_this_accounts_endpoints(endpoint, owner):
    rival_unit = UnitFactory(facility=FacilityFactory())
    facility_services.lock_release(
        lock=assigned_lock(rival_unit), actor=Actor.for_user(owner, ip=None)
    )
    assert Event.objects.count() == 0


def test_only_the_subscribed_events_are_written(endpoint, unit, owner):
    endpoint.event_types = ["overlock.released"]
    endpoint.save()
    facility_services.lock_release(lock=assigned_lock(unit), actor=Actor.for_user(owner, ip=None))
    assert list(Event.objects.values_list("type", flat=True)) == ["overlock.released"]


def test_a_code_revealed_announces_nothing_and_costs_no_query(
    endpoint, unit, owner, django_assert_num_queries
):
    from facilities.history import lock_event_record
    from facilities.models import LockEvent

    lock = assigned_lock(unit)
    with django_assert_num_queries(1):  # the history line only
        lock_event_record(
            lock=lock, kind=LockEvent.Kind.CODE_REVEALED, actor_type=LockEvent.Actor.USER
        )
    assert Event.objects.count() == 0


def test_after_a_roll_both_secrets_sign_for_a_day(endpoint, receiver, owner):
    old = endpoint.plain_secret
    services.endpoint_roll(endpoint=endpoint, keep_previous=True, actor=owner, ip=None)
    endpoint.refresh_from_db()
    new = endpoint.secret()
    events.test_publish(endpoint=endpoint)
    delivery.endpoint_deliver(endpoint.pk)
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(new).verify(request.body, request.headers)


def test_after_an_immediate_roll_only_the_new_secret_signs(endpoint, receiver, owner):
    services.endpoint_roll(endpoint=endpoint, keep_previous=False, actor=owner, ip=None)
    endpoint.refresh_from_db()
    events.test_publish(endpoint=endpoint)
    delivery.endpoint_deliver(endpoint.pk)
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(endpoint.secret()).verify(request.body, request.headers)


def test_resend_queues_the_same_event_again(owner_client, endpoint, receiver):
    event = events.test_publish(endpoint=endpoint)
    delivery.endpoint_deliver(endpoint.pk)
    first = Delivery.objects.get()
    response = owner_client.post(
        reverse("webhooks:endpoint_resend", args=[endpoint.pk]), {"delivery": first.pk}
    )
    assert response.status_code == 302
    delivery.endpoint_deliver(endpoint.pk)
    assert [r.headers["webhook-id"] for r in receiver.requests] == [event.message_id] * 2
    assert Delivery.objects.count() == 2


def test_resend_of_an_unknown_delivery_is_404_and_bad_input_a_message(owner_client, endpoint):
    url = reverse("webhooks:endpoint_resend", args=[endpoint.pk])
    assert owner_client.post(url, {"delivery": "999999"}).status_code == 404
    assert owner_client.post(url, {"delivery": "x"}).status_code == 302
