"""The public overlock-release page: /release/<account-slug>/."""

import pytest
from django.core import mail
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from davinci import sms
from facilities.models import LockEvent, LockStatus, ReleaseAttempt
from facilities.release import views as release
from tests.factories import UnitFactory, assigned_lock
from tests.release.conftest import overlock, release_lock
from tests.timing import SEND_SECONDS, interleaved_medians

Outcome = ReleaseAttempt.Outcome
CODE = "4812"


def page_url(account) -> str:
    return reverse("release:page", args=[account.slug])


def submit(
    client: Client,
    account,
    facility,
    *,
    unit_number: str = "A101",
    contact: str = "nobody@example.com",
    website: str = "",
    remote_addr: str = "127.0.0.1",
):
    data = {
        "facility": facility.facility_id,
        "unit_number": unit_number,
        "contact": contact,
        "website": website,
    }
    return client.post(page_url(account), data, REMOTE_ADDR=remote_addr)


# Headers that differ between any two responses: the request id and the clock.
PER_REQUEST_HEADERS = {"X-Request-ID", "Date", "Expires"}


def answer(response) -> tuple:
    """Everything a visitor can see of a response, apart from per-request noise."""
    headers = {k: v for k, v in response.headers.items() if k not in PER_REQUEST_HEADERS}
    return response.status_code, headers, response.content, sorted(response.cookies)


def attempts():
    return list(ReleaseAttempt.objects.order_by("id"))


# --- The page --------------------------------------------------------------------------------


def test_page_is_public_and_lists_only_included_facilities_of_the_account(
    client, account, facility, excluded_facility, other_facility, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):
        response = client.get(page_url(account))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Get your unlock code" in body
    assert f'value="{facility.facility_id}"' in body
    assert facility.name in body
    assert excluded_facility.name not in body
    assert excluded_facility.facility_id not in body
    assert other_facility.name not in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert 'name="website"' in body  # the honeypot
    assert response["Cache-Control"].startswith("max-age=0")


def test_page_of_an_account_with_no_included_facility_says_so(client, account, excluded_facility):
    response = client.get(page_url(account))

    assert response.status_code == 200
    assert "offers no facilities for online overlock release" in response.content.decode()
    assert b"Send me the code" not in response.content


def test_unknown_account_slug_is_404(client, account):
    assert client.get("/release/no-such-company/").status_code == 404
    assert client.post("/release/no-such-company/", {}).status_code == 404
    assert client.get("/release/no-such-company/requested/").status_code == 404


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_wrong_method_is_405(client, account, method):
    assert getattr(client, method)(page_url(account)).status_code == 405
    requested = reverse("release:requested", args=[account.slug])
    assert getattr(client, method)(requested).status_code == 405
    assert client.post(requested).status_code == 405


def test_signed_in_owner_sees_the_same_public_page(owner_client, account, facility):
    response = owner_client.get(page_url(account))
    assert response.status_code == 200
    assert b"Get your unlock code" in response.content


# --- The happy path --------------------------------------------------------------------------


def test_released_unit_gets_the_code_by_email_and_the_page_never_shows_it(
    client, account, facility, tenant_unit, released
):
    response = submit(client, account, facility, contact="avery.johnson@EXAMPLE.com")

    assert response.status_code == 302
    assert response["Location"] == reverse("release:requested", args=[account.slug]) + "?by=email"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Avery.Johnson@example.com"]
    assert CODE in message.body
    assert "A101" in message.subject
    assert CODE not in message.subject

    followed = client.get(response["Location"])
    assert followed.status_code == 200
    assert b"Check your email" in followed.content
    assert CODE.encode() not in response.content + followed.content

    event = LockEvent.objects.get(kind=LockEvent.Kind.CODE_SENT)
    assert event.lock == released
    assert event.actor_type == LockEvent.Actor.TENANT_PAGE
    assert event.unit == tenant_unit
    assert event.ip == "127.0.0.1"
    assert event.details["channel"] == "email"
    [attempt] = attempts()
    assert (attempt.outcome, attempt.unit, attempt.lock) == (Outcome.SENT, tenant_unit, released)
    assert event.details["release_attempt"] == attempt.pk


def test_the_email_subject_is_plain_text_on_one_line(client, account, facility, released):
    facility.name = "Smith & Sons\nStorage"
    facility.save()
    url = reverse("release:page", kwargs={"account_slug": account.slug})
    response = client.post(
        url,
        {
            "facility": facility.facility_id,
            "unit_number": "A101",
            "contact": "avery.johnson@example.com",
        },
    )
    assert response.status_code == 302
    response.close()  # the code is sent once the answer is written
    assert [m.subject for m in mail.outbox] == [
        "Your unlock code for unit A101 at Smith & Sons Storage"
    ]


def test_released_unit_gets_the_code_by_sms_when_the_phone_digits_match(
    client, account, facility, tenant_unit, released
):
    response = submit(client, account, facility, unit_number="a101", contact="+1 603.555.0142")

    assert response["Location"].endswith("?by=sms")
    assert [message.to for message in sms.outbox] == ["+16035550142"]
    assert CODE in sms.outbox[0].body
    assert mail.outbox == []
    assert LockEvent.objects.get(kind=LockEvent.Kind.CODE_SENT).details["channel"] == "sms"
    assert attempts()[0].outcome == Outcome.SENT
    followed = client.get(response["Location"])
    assert b"Check your text messages" in followed.content


def test_code_is_sent_only_after_the_response_is_complete(account, facility, tenant_unit, released):
    request = RequestFactory().post(
        page_url(account),
        {
            "facility": facility.facility_id,
            "unit_number": "A101",
            "contact": "avery.johnson@example.com",
        },
    )
    request._dont_enforce_csrf_checks = True

    response = release.release_page(request, account_slug=account.slug)

    assert response.status_code == 302
    assert mail.outbox == []
    assert attempts()[0].outcome == Outcome.PENDING
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_SENT).exists()
    # What the WSGI server does once the response is written (without request_finished
    # closing the test's database connection, as Django's test client also arranges).
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert len(mail.outbox) == 1
    assert attempts()[0].outcome == Outcome.SENT


def test_each_send_writes_one_lock_event(client, account, facility, tenant_unit, released):
    for _ in range(2):
        submit(client, account, facility, contact="avery.johnson@example.com")

    assert len(mail.outbox) == 2
    assert LockEvent.objects.filter(kind=LockEvent.Kind.CODE_SENT, lock=released).count() == 2


# --- Same answer whatever the truth ----------------------------------------------------------


def test_unknown_unit_wrong_contact_unreleased_lock_and_success_answer_identically(
    client, account, facility, tenant_unit, released
):
    busy = UnitFactory(facility=facility, unit_number="B202", tenant_email="blake@example.com")
    overlock(busy, code="9999")
    cases = {
        Outcome.UNKNOWN_UNIT: ("Z999", "avery.johnson@example.com"),
        Outcome.CONTACT_MISMATCH: ("A101", "someone.else@example.com"),
        Outcome.NOT_RELEASED: ("B202", "blake@example.com"),
        Outcome.SENT: ("A101", "avery.johnson@example.com"),
    }

    responses = {
        outcome: submit(client, account, facility, unit_number=unit_number, contact=contact)
        for outcome, (unit_number, contact) in cases.items()
    }

    answers = [answer(response) for response in responses.values()]
    assert all(a == answers[0] for a in answers[1:]), answers
    assert answers[0][0] == 302
    assert [a.outcome for a in attempts()] == list(cases)
    assert len(mail.outbox) == 1  # only the real tenant got a code
    assert "9999" not in mail.outbox[0].body
    assert LockEvent.objects.filter(kind=LockEvent.Kind.CODE_SENT).count() == 1


def test_every_outcome_costs_the_same_queries_before_the_response(
    account, facility, tenant_unit, released, excluded_facility
):
    """The work done before answering does not depend on the outcome: one lookup query
    whatever it finds, the same insert, and the send only after the response."""
    busy = UnitFactory(facility=facility, unit_number="B202", tenant_email="blake@example.com")
    overlock(busy, code="9999")
    cases = [
        (facility, "Z999", "avery.johnson@example.com"),
        (facility, "A101", "someone.else@example.com"),
        (facility, "B202", "blake@example.com"),
        (excluded_facility, "A101", "avery.johnson@example.com"),
        (facility, "A101", "avery.johnson@example.com"),
    ]
    counts = []
    for chosen, unit_number, contact in cases:
        request = RequestFactory().post(
            page_url(account),
            {"facility": chosen.facility_id, "unit_number": unit_number, "contact": contact},
        )
        request._dont_enforce_csrf_checks = True
        with CaptureQueriesContext(connection) as queries:
            release.release_page(request, account_slug=account.slug)
        counts.append(len(queries))

    assert len(set(counts)) == 1, counts
    assert [a.outcome for a in attempts()] == [
        Outcome.UNKNOWN_UNIT,
        Outcome.CONTACT_MISMATCH,
        Outcome.NOT_RELEASED,
        Outcome.FACILITY_EXCLUDED,
        Outcome.PENDING,
    ]


def test_phone_attempts_also_answer_identically(client, account, facility, tenant_unit, released):
    wrong = submit(client, account, facility, contact="603 555 0000")
    right = submit(client, account, facility, contact="6035550142")

    assert answer(wrong) == answer(right)
    assert [a.outcome for a in attempts()] == [Outcome.CONTACT_MISMATCH, Outcome.SENT]
    assert len(sms.outbox) == 1


def test_forged_post_for_an_excluded_facility_is_refused_like_a_wrong_contact(
    client, account, facility, tenant_unit, released, excluded_facility
):
    hidden = UnitFactory(
        facility=excluded_facility, unit_number="A101", tenant_email="hidden@example.com"
    )
    release_lock(overlock(hidden, code="7777"))

    wrong_contact = submit(client, account, facility, contact="nobody@example.com")
    forged = submit(client, account, excluded_facility, contact="hidden@example.com")

    assert answer(forged) == answer(wrong_contact)
    assert mail.outbox == []
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_SENT).exists()
    assert [a.outcome for a in attempts()] == [Outcome.CONTACT_MISMATCH, Outcome.FACILITY_EXCLUDED]


def test_excluding_a_facility_stops_sends_at_once(client, account, facility, tenant_unit, released):
    facility.include_in_api = False
    facility.save()

    response = submit(client, account, facility, contact="avery.johnson@example.com")

    assert response.status_code == 302
    assert mail.outbox == []
    assert attempts()[0].outcome == Outcome.FACILITY_EXCLUDED


def test_honeypot_gets_the_same_answer_and_no_code(
    client, account, facility, tenant_unit, released
):
    honest = submit(client, account, facility, contact="nobody@example.com")
    bot = submit(
        client, account, facility, contact="avery.johnson@example.com", website="http://spam"
    )

    assert answer(bot) == answer(honest)
    assert mail.outbox == []
    assert attempts()[1].outcome == Outcome.HONEYPOT


def test_failed_delivery_is_recorded_and_claims_no_send(
    client, account, facility, tenant_unit, released, settings
):
    settings.EMAIL_BACKEND = "tests.release.failing_backends.RefusingEmailBackend"

    response = submit(client, account, facility, contact="avery.johnson@example.com")

    assert response.status_code == 302
    assert attempts()[0].outcome == Outcome.DELIVERY_FAILED
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_SENT).exists()


def test_failed_sms_is_recorded(client, account, facility, tenant_unit, released, settings):
    settings.SMS_BACKEND = "tests.release.failing_backends.RefusingSmsBackend"

    submit(client, account, facility, contact="(603) 555-0142")

    assert attempts()[0].outcome == Outcome.DELIVERY_FAILED
    assert not LockEvent.objects.filter(kind=LockEvent.Kind.CODE_SENT).exists()


# --- Bad input gets a clear form error -------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"facility": ""}, "facility", "Choose the facility where your unit is."),
        ({"facility": "nosuchfacility00"}, "facility", "Choose one of the listed facilities."),
        ({"unit_number": ""}, "unit_number", "Enter your unit number."),
        ({"unit_number": "A/101"}, "unit_number", "no slashes"),
        ({"unit_number": "X" * 21}, "unit_number", "at most 20 characters"),
        ({"contact": ""}, "contact", "Enter the email address or phone number on file."),
        ({"contact": "avery@"}, "contact", "Enter a valid email address"),
        ({"contact": "call me maybe"}, "contact", "Enter the email address or the phone number"),
        ({"contact": "555-01"}, "contact", "A phone number has 7 to 15 digits."),
        ({"contact": "+1 (603) 555-0142-9999-9999"}, "contact", "7 to 15 digits"),
    ],
)
def test_bad_input_gets_a_clear_form_error(
    client, account, facility, tenant_unit, released, data, field, error
):
    fields = {"facility": facility.facility_id, "unit_number": "A101"}
    fields["contact"] = "avery.johnson@example.com"
    fields.update(data)

    response = client.post(page_url(account), fields)

    assert response.status_code == 200
    assert any(error in message for message in response.context["form"].errors[field])
    assert error.split("{")[0] in response.content.decode().replace("&#x27;", "'")
    assert attempts() == []
    assert mail.outbox == []


def test_a_nul_in_the_facility_is_a_form_error_not_a_500(client, account, facility):
    url = reverse("release:page", kwargs={"account_slug": account.slug})
    response = client.post(
        url, {"facility": "a\x00b", "unit_number": "A101", "contact": "a@example.com"}
    )
    assert response.status_code == 200
    assert "Choose one of the listed facilities." in response.content.decode()
    assert not ReleaseAttempt.objects.exists()


def test_another_accounts_facility_is_an_unknown_facility(
    client, account, facility, other_facility
):
    response = client.post(
        page_url(account),
        {"facility": other_facility.facility_id, "unit_number": "A101", "contact": "a@b.example"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["facility"] == ["Choose one of the listed facilities."]
    assert attempts() == []


def test_phone_numbers_are_refused_clearly_when_text_messages_are_off(
    client, account, facility, tenant_unit, released, settings
):
    settings.SMS_BACKEND = ""

    page = client.get(page_url(account))
    response = submit(client, account, facility, contact="(603) 555-0142")

    assert b"Email address on file" in page.content
    assert response.status_code == 200
    assert response.context["form"].errors["contact"] == [
        "Codes are sent by email only here: enter the email address on file."
    ]
    assert attempts() == []


# --- CSRF and rate limits --------------------------------------------------------------------


def test_post_without_csrf_token_is_refused(account, facility, tenant_unit, released):
    client = Client(enforce_csrf_checks=True)
    data = {
        "facility": facility.facility_id,
        "unit_number": "A101",
        "contact": "avery.johnson@example.com",
    }

    assert client.post(page_url(account), data).status_code == 403
    assert mail.outbox == []
    assert attempts() == []

    client.get(page_url(account))
    data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    assert client.post(page_url(account), data).status_code == 302
    assert len(mail.outbox) == 1


def test_rate_limit_per_ip(client, account, facility, tenant_unit, released, settings):
    settings.RELEASE_RATE_LIMIT_PER_IP = 3
    settings.RELEASE_RATE_LIMIT_WINDOW = 600
    for number in ("B1", "B2", "B3"):
        assert (
            submit(
                client, account, facility, unit_number=number, contact="x@example.com"
            ).status_code
            == 302
        )

    limited = submit(client, account, facility, contact="avery.johnson@example.com")

    assert limited.status_code == 429
    assert limited["Retry-After"] == "600"
    assert "Too many attempts. Please wait 10 minutes" in limited.content.decode()
    assert mail.outbox == []  # even the right details get nothing once the IP is over
    assert attempts()[-1].outcome == Outcome.RATE_LIMITED
    other_ip = submit(
        client, account, facility, contact="avery.johnson@example.com", remote_addr="203.0.113.9"
    )
    assert other_ip.status_code == 302
    assert len(mail.outbox) == 1


def test_rate_limit_per_unit_holds_per_address_whether_or_not_the_unit_exists(
    client, account, facility, tenant_unit, released, settings
):
    settings.RELEASE_RATE_LIMIT_PER_UNIT = 2
    for unit_number in ("A101", "Q404"):  # a real unit and one that does not exist
        statuses = [
            submit(
                client,
                account,
                facility,
                unit_number=unit_number,
                contact="wrong@example.com",
                remote_addr="198.51.100.1",
            ).status_code
            for _ in range(3)
        ]
        assert statuses == [302, 302, 429]

    # The same number typed in lower case is not spared; another unit number is not affected.
    assert (
        submit(
            client, account, facility, unit_number="a101", remote_addr="198.51.100.1"
        ).status_code
        == 429
    )
    assert (
        submit(
            client, account, facility, unit_number="C303", remote_addr="198.51.100.1"
        ).status_code
        == 302
    )
    assert mail.outbox == []
    outcomes = [a.outcome for a in attempts()]
    assert outcomes.count(Outcome.RATE_LIMITED) == 3
    assert len(outcomes) == 8  # every attempt recorded, the limited ones too


def test_an_attacker_hammering_a_unit_cannot_keep_the_tenant_from_their_code(
    client, account, facility, tenant_unit, released
):
    """Finding 3: wrong contacts on a unit from many addresses spend only those addresses'
    allowance; the tenant, from theirs, still gets the code and the same answer as ever."""
    for n in range(40):
        submit(client, account, facility, contact="guess@example.com", remote_addr=f"192.0.2.{n}")
        submit(client, account, facility, contact="guess@example.com", remote_addr="192.0.2.1")

    tenant = submit(
        client, account, facility, contact="avery.johnson@example.com", remote_addr="203.0.113.5"
    )

    assert tenant.status_code == 302
    assert len(mail.outbox) == 1
    assert attempts()[-1].outcome == Outcome.SENT


def test_nobody_can_flood_a_tenant_with_codes(
    client, account, facility, tenant_unit, released, settings
):
    """Someone who knows the contact on file, asking from many addresses, gets the tenant at
    most RELEASE_SENDS_PER_UNIT messages a window; the page answers the same all along."""
    settings.RELEASE_SENDS_PER_UNIT = 3
    answers = [
        answer(
            submit(
                client,
                account,
                facility,
                contact="avery.johnson@example.com",
                remote_addr=f"198.51.100.{n}",
            )
        )
        for n in range(8)
    ]

    assert all(each == answers[0] for each in answers)
    assert len(mail.outbox) == 3
    outcomes = [a.outcome for a in attempts()]
    assert outcomes == [Outcome.SENT] * 3 + [Outcome.SEND_LIMITED] * 5


def test_ipv4_mapped_clients_are_counted_per_ipv4_address(client, account, facility, settings):
    """Finding 4: behind a dual-stack listener every IPv4 client is ::ffff:a.b.c.d; they are
    each their own address, not one shared /64."""
    settings.RELEASE_RATE_LIMIT_PER_IP = 2
    for n in (1, 2):
        submit(client, account, facility, unit_number=f"U{n}", remote_addr="::ffff:192.0.2.1")

    again = submit(client, account, facility, unit_number="U3", remote_addr="::ffff:192.0.2.1")
    neighbour = submit(client, account, facility, unit_number="U4", remote_addr="::ffff:192.0.2.2")

    assert (again.status_code, neighbour.status_code) == (429, 302)
    assert attempts()[0].ip == "192.0.2.1"


def test_ipv6_clients_are_counted_per_64(client, account, facility, settings):
    settings.RELEASE_RATE_LIMIT_PER_IP = 2
    for suffix in ("1", "2"):
        response = submit(
            client,
            account,
            facility,
            unit_number=f"U{suffix}",
            contact="x@example.com",
            remote_addr=f"2001:db8:1:1::{suffix}",
        )
        assert response.status_code == 302

    same_64 = submit(
        client,
        account,
        facility,
        unit_number="U3",
        contact="x@example.com",
        remote_addr="2001:db8:1:1:ffff::3",
    )
    other_64 = submit(
        client,
        account,
        facility,
        unit_number="U4",
        contact="x@example.com",
        remote_addr="2001:db8:1:2::1",
    )

    assert (same_64.status_code, other_64.status_code) == (429, 302)


# --- Which lock is "the unit's lock" ----------------------------------------------------------


def test_a_released_lock_that_moved_to_another_unit_is_sent_to_that_units_tenant(
    client, account, facility, tenant_unit, released
):
    other = UnitFactory(facility=facility, unit_number="B202", tenant_email="blake@example.com")
    # Back from the drop box: set Available (off A101), onto another door, released there.
    released.status, released.unit = LockStatus.AVAILABLE, None
    released.save()
    released.status, released.unit = LockStatus.ASSIGNED_OVERLOCK, other
    released.save()
    release_lock(released)

    submit(client, account, facility, contact="avery.johnson@example.com")
    submit(client, account, facility, unit_number="B202", contact="blake@example.com")

    assert [a.outcome for a in attempts()] == [Outcome.NOT_RELEASED, Outcome.SENT]
    assert mail.outbox[0].to == ["blake@example.com"]


def test_a_new_lock_on_the_unit_replaces_the_released_one(
    client, account, facility, tenant_unit, released
):
    released.status, released.unit = LockStatus.AVAILABLE, None
    released.save()
    assigned_lock(tenant_unit, LockStatus.ASSIGNED_OVERLOCK, code="1111")

    submit(client, account, facility, contact="avery.johnson@example.com")

    assert attempts()[0].outcome == Outcome.NOT_RELEASED
    assert mail.outbox == []


# --- Same time whatever the truth, also in-process --------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_matching_and_a_wrong_contact_take_the_same_time_in_process(
    background_threads, account, facility, tenant_unit, released, settings
):
    """`make run` sends in-process: the send (as slow as a mail server here) must happen
    after the answer *and* off the request's thread, whose connection the browser's next
    request (the redirect) waits for."""
    settings.EMAIL_BACKEND = "tests.timing.SlowEmailBackend"
    settings.RELEASE_RATE_LIMIT_PER_IP = settings.RELEASE_RATE_LIMIT_PER_UNIT = 1000
    settings.RELEASE_SENDS_PER_UNIT = 1000
    client = Client()
    medians = interleaved_medians(
        {
            "match": lambda: submit(client, account, facility, contact="avery.johnson@example.com"),
            "wrong": lambda: submit(client, account, facility, contact="someone@example.com"),
        },
        between=background_threads.join,
    )
    assert abs(medians["match"] - medians["wrong"]) < SEND_SECONDS / 3, medians
    assert len(mail.outbox) == 12  # every matching attempt got its code, afterwards
