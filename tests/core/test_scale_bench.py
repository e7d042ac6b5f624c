"""bench/scale.py measures every page a member can open: each URL pattern of the project is
either in its PAGES or in NOT_MEASURED with a reason (a new page cannot go unmeasured), the
"POST only" ones really refuse GET, and every page of PAGES answers as the bench expects. Its
loader (bench/scale_data.py) writes a consistent operator, tried here at a tiny size on
PostgreSQL. Its saves (bench/scale_saves.py) post what the forms' pages have and save what
they post, carried through the confirm page too; the budget refuses a 400 and a query count
that grows with the facilities."""

import random
import re

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from automations.models import AutomationRun, FmsEvent, Rule
from bench import scale, scale_data, scale_saves
from davinci import crypto
from davinci.accounts.models import AuditEvent, Membership, Role
from facilities.models import UNIT_STATUSES, Facility, Lock, LockEvent, LockStatus, Unit
from integrations import secrets as api_secrets
from integrations.models import ApiKey
from tests.conftest import signed_in
from tests.factories import (
    PASSWORD,
    ApiKeyFactory,
    FacilityFactory,
    LockFactory,
    MembershipFactory,
    PasskeyFactory,
    UnitFactory,
    WebhookEndpointFactory,
    assigned_lock,
)
from webhooks.models import Attempt, Delivery, Endpoint, Event


def _url_names(patterns=None, namespace: str = ""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from _url_names(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), namespace, entry


URLS = {name: (namespace, entry) for name, namespace, entry in _url_names()}
MEASURED = {page.name for page in scale.PAGES}
POST_ONLY = sorted(name for name, why in scale.NOT_MEASURED.items() if why == scale.POST_ONLY)


def test_every_url_pattern_is_measured_or_excused():
    unaccounted = {
        name
        for name, (namespace, _) in URLS.items()
        if name not in MEASURED
        and name not in scale.NOT_MEASURED
        and namespace not in scale.NOT_MEASURED_NAMESPACES
    }
    assert not unaccounted, (
        f"pages bench/scale.py does not measure: {sorted(unaccounted)}. Add each to PAGES, "
        "or to NOT_MEASURED with the reason a member never GETs it."
    )


def test_the_lists_name_only_real_urls_and_each_once():
    assert not (MEASURED | set(scale.NOT_MEASURED)) - set(URLS)
    assert not MEASURED & set(scale.NOT_MEASURED)
    assert len({page.label for page in scale.PAGES}) == len(scale.PAGES)


@pytest.fixture
def objects(account, facility):
    unit = UnitFactory(facility=facility)
    return {
        "facility": facility,
        "unit": unit,
        "lock": assigned_lock(unit),
        "api_key": ApiKeyFactory(account=account),
        "webhook_endpoint": WebhookEndpointFactory(account=account),
        "member": MembershipFactory(account=account, role=Role.CLIENT_PERSONNEL),
        "passkey": PasskeyFactory(
            user=MembershipFactory(account=account, role=Role.CLIENT_PERSONNEL).user
        ),
    }


def _kwargs(name: str, entry: URLPattern, objects: dict) -> dict:
    short = name.split(":")[-1]
    kwargs = {}
    for param in entry.pattern.converters or entry.pattern.regex.groupindex:
        if param == "facility_id":
            kwargs[param] = objects["facility"].facility_id
        elif short.startswith(("member", "ownership")):
            kwargs[param] = objects["member"].pk
        elif short.startswith("passkey"):
            kwargs[param] = objects["passkey"].pk
        elif short.startswith("api_key"):
            kwargs[param] = objects["api_key"].pk
        elif short.startswith("endpoint"):
            kwargs[param] = objects["webhook_endpoint"].pk
        elif short.startswith("unit"):
            kwargs[param] = objects["unit"].pk
        elif short.startswith("lock"):
            kwargs[param] = objects["lock"].pk
        else:
            kwargs[param] = objects["facility"].pk
    return kwargs


@pytest.mark.parametrize("name", POST_ONLY)
def test_what_is_excused_as_post_only_refuses_get(owner, objects, name):
    url = reverse(name, kwargs=_kwargs(name, URLS[name][1], objects))
    assert signed_in(owner).get(url).status_code == 405, url


@pytest.fixture
def subject(account, facility, owner):
    """A Subject as bench/scale.py builds one, from the test cast."""
    unit = UnitFactory(facility=facility, unit_number="B137")
    lock = assigned_lock(unit)
    LockFactory(facility=facility)
    key = ApiKeyFactory(account=account, all_facilities=False, permissions=["read", "events"])
    key.facilities.set([facility])
    member_all = MembershipFactory(account=account, role=Role.CLIENT_PERSONNEL)
    chosen = MembershipFactory(account=account, role=Role.CLIENT_CALL_CENTER, all_facilities=False)
    chosen.facilities.set([facility])
    facility.address = "100 Harbor Way, Portsmouth, NH 03801"
    facility.save()
    (rule_chosen,) = scale_data.automation_rules_load(account=account, chosen=[[facility.pk]])[2:]
    return scale.Subject(
        account=account.name,
        slug=account.slug,
        facility_pk=facility.pk,
        facility_id=facility.facility_id,
        city="Portsmouth",
        unit_pk=unit.pk,
        unit_number=unit.unit_number,
        lock_pk=lock.pk,
        serial=lock.serial,
        key_pk=key.pk,
        endpoint_pk=WebhookEndpointFactory(account=account).pk,
        api_key=key.api_key,
        api_secret=key.plain_secret,
        member_all_pk=member_all.pk,
        member_chosen_pk=chosen.pk,
        rule_pk=Rule.objects.get(account=account, default=Rule.Default.PAYMENT).pk,
        owner_email=owner.email,
        chosen_email=chosen.user.email,
        password="",
        unit_list_next=reverse("api:unit_list", args=[facility.facility_id]) + "?limit=1",
        rule_chosen_pk=rule_chosen.pk,
    )


@pytest.mark.parametrize("page", scale.PAGES, ids=[page.label for page in scale.PAGES])
def test_every_measured_page_answers_as_the_bench_expects(subject, owner, page):
    """The bench opens each page with these paths and these people: a path that no longer
    resolves, or a page that refuses its visitor, would be measured as an error page."""
    if page.who == "owner":
        client = signed_in(owner)
    elif page.who == "chosen":
        client = signed_in(Membership.objects.get(pk=subject.member_chosen_pk).user)
    else:
        client = Client()
    headers = {}
    if page.who == "api":
        headers = {"X-API-Key": subject.api_key, "X-API-Secret": subject.api_secret}
    response = client.get(page.path(subject), headers=headers)
    assert response.status_code in page.expect, (page.label, response.status_code)


# --- The loader, at a tiny size --------------------------------------------------------------

TINY = scale_data.Size(
    facilities=4,
    events=3_000,
    members=8,
    keys=3,
    release_attempts=40,
    audit_events=30,
    units_per_facility=12,
    locks_per_facility=14,
    webhook_deliveries=150,
    fms_events=200,
)


def test_the_status_mix_covers_every_status():
    assert set(scale_data.STATUS_SHARES) == {str(status) for status in LockStatus}
    assert set(scale_data.EVENT_SHARES) <= {str(kind) for kind in LockEvent.Kind}


def test_keys_choose_500_to_2000_facilities_at_full_size():
    counts = scale_data.Size().chosen_counts()
    assert (len(counts), max(counts), min(counts)) == (20, 2_000, 500)


def _schema(tables) -> tuple[set, set]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [tables])
        indexes = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid::regclass::text = ANY(%s)",
            [tables],
        )
        return indexes, set(cursor.fetchall())


@pytest.mark.django_db
def test_the_loader_writes_a_consistent_operator_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the scale loader uses PostgreSQL's COPY; run with DATABASE_URL=postgres://…")
    tables = list(scale_data.BULK_TABLES)
    schema = _schema(tables)

    loaded = scale_data.load(TINY)

    assert _schema(tables) == schema  # every index and foreign key is back
    facilities = Facility.objects.filter(account_id=loaded.account_id)
    assert facilities.count() == TINY.facilities
    assert all(re.fullmatch(r"[a-z0-9]{16}", f.facility_id) for f in facilities)
    assert Unit.objects.filter(facility__in=facilities).count() == TINY.units
    locks = Lock.objects.filter(account_id=loaded.account_id)
    assert locks.count() == TINY.locks
    for lock in locks:
        assert re.fullmatch(r"\d{4}", lock.unlock_code)  # really encrypted, and decrypts
        assert (lock.unit_id is not None) == (lock.status in UNIT_STATUSES)
    assert len(set(locks.values_list("serial", flat=True))) == TINY.locks
    events = LockEvent.objects.filter(lock__account_id=loaded.account_id)
    assert events.count() == TINY.events
    for event in events.filter(kind=LockEvent.Kind.CODE_LOOKED_UP).select_related("lock"):
        # A lookup reads a facility in its key's scope.
        assert event.api_key.facilities_in_scope().filter(pk=event.lock.facility_id).exists()
    keys = ApiKey.objects.filter(account_id=loaded.account_id)
    assert keys.count() == TINY.keys
    for key in keys:
        assert api_secrets.secret_matches(crypto.decrypt(key.secret_encrypted), key.secret_digest)
    members = Membership.objects.filter(account_id=loaded.account_id).select_related("user")
    assert members.count() == TINY.members
    assert members.get(role=Role.OWNER).user.check_password(scale_data.LARGE_PASSWORD)
    chosen = members.get(user__email=scale_data.LARGE_CHOSEN_MEMBER)
    assert (chosen.role, chosen.facilities.count()) == (Role.CLIENT_CALL_CENTER, 1)
    assert AuditEvent.objects.filter(account_id=loaded.account_id).count() == TINY.audit_events
    # The delivery log of one endpoint, on the chosen member's facility: finished deliveries
    # (nothing waits to be sent), each with its attempts numbered from 1, newest last.
    endpoint = Endpoint.objects.get(account_id=loaded.account_id)
    assert list(endpoint.facilities.all()) == list(chosen.facilities.all())
    deliveries = Delivery.objects.filter(endpoint=endpoint)
    assert deliveries.count() == TINY.webhook_deliveries
    assert not deliveries.filter(status=Delivery.Status.PENDING).exists()
    assert Event.objects.filter(account_id=loaded.account_id).count() == TINY.webhook_deliveries
    attempts = Attempt.objects.filter(endpoint=endpoint)
    assert attempts.count() > TINY.webhook_deliveries
    for delivery in deliveries.annotate(n=Count("attempt_set"), last=Max("attempt_set__number")):
        assert delivery.n == delivery.last == delivery.attempts
    assert sorted(deliveries.values_list("created_at", flat=True)) == list(
        deliveries.order_by("id").values_list("created_at", flat=True)
    )

    # The FMS feed: every event with its runs (one per rule it met, or one with nothing to
    # do), each run on its event's facility and unit, results of every kind.
    events = FmsEvent.objects.filter(account_id=loaded.account_id)
    assert events.count() == TINY.fms_events
    assert set(events.values_list("source", flat=True)) == {"api", "csv"}
    runs = AutomationRun.objects.filter(account_id=loaded.account_id).select_related("event")
    assert runs.count() >= TINY.fms_events
    assert not events.exclude(runs__isnull=False).exists()
    assert {run.result for run in runs} >= {"acted", "skipped", "nothing"}
    for run in runs:
        assert (run.facility_id, run.unit_id) == (run.event.facility_id, run.event.unit_id)
        assert run.unit_number == run.unit.unit_number
        assert (run.rule_id is None) == (run.result == "nothing")
        assert run.result == "acted" or run.reason
    assert Rule.objects.filter(account_id=loaded.account_id).count() == 5
    # Narrowed, as the demo's measured unit gets its payments: that unit, that type only.
    unit = Unit.objects.filter(facility__in=facilities, lock__isnull=False).first()
    scale_data.automation_log_load(
        account=unit.facility.account,
        count=12,
        rng=random.Random(1),
        now=timezone.now(),
        days=30,
        api_key_id=None,
        uploaded_by_id=members.get(role=Role.OWNER).user_id,
        shares={"payment_received": 1},
        unit_pks={unit.pk},
    )
    added = events.order_by("-id")[:12]
    assert {(e.unit_id, e.type, e.source) for e in added} == {(unit.pk, "payment_received", "csv")}

    with pytest.raises(RuntimeError, match="already loaded"):
        scale_data.load(TINY)


# --- The saves: what is posted ----------------------------------------------------------------


def test_two_thirds_are_chosen_and_an_edit_swaps_one():
    assert [scale_saves.chosen_count(n) for n in (3_000, 300, 3)] == [2_000, 200, 2]
    assert scale_saves.edited(["a", "b", "c"], "d") == ["b", "c", "d"]


def test_2000_facilities_are_one_field_of_the_form():
    ids = [f"{n:016x}" for n in range(2_000)]
    key = scale_saves.key_form(csrf="t", name="Call Center", facility_ids=ids, detail=True)
    member = scale_saves.member_form(csrf="t", name="Ann", email="a@example.com", facility_ids=ids)

    for form in (key, member):
        assert len(form) < 10 < settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        assert form["facilities"].split("\n") == ids
        assert "all_facilities" not in form  # the switch is off: a browser posts nothing


@pytest.fixture
def three_facilities(account, facility):
    return [facility, *(FacilityFactory(account=account) for _ in range(2))]


def _ids(facilities) -> list[str]:
    return [facility.facility_id for facility in facilities]


def test_the_key_forms_posted_are_the_pages_and_save_the_chosen_facilities(
    owner, account, three_facilities
):
    client = signed_in(owner)
    chosen, spare = _ids(three_facilities[:2]), three_facilities[2].facility_id
    create = reverse("integrations:api_key_create")
    form = scale_saves.key_form(csrf="t", name="Bench save 1", facility_ids=chosen)
    assert scale_saves.fields_missing(form, client.get(create).content.decode()) == []

    assert client.post(create, form).status_code == 302
    key = ApiKey.objects.get(account=account, name="Bench save 1")
    page = reverse("integrations:api_key_detail", args=[key.pk])
    edit = scale_saves.key_form(
        csrf="t", name="Renamed", facility_ids=scale_saves.edited(chosen, spare), detail=True
    )
    assert scale_saves.fields_missing(edit, client.get(page).content.decode()) == []
    assert client.post(page, edit).status_code == 302

    key.refresh_from_db()
    assert key.name == "Renamed"
    assert set(key.facilities.values_list("facility_id", flat=True)) == {chosen[1], spare}


def test_the_member_forms_posted_are_the_pages_and_carry_through_the_confirm_page(
    owner, account, three_facilities
):
    client = signed_in(owner)
    chosen = _ids(three_facilities[:2])
    add = reverse("team:member_add")
    form = scale_saves.member_form(
        csrf="t", name="Ann", email="bench-save-1@example.com", facility_ids=chosen
    )
    assert scale_saves.fields_missing(form, client.get(add).content.decode()) == []
    assert client.post(add, form).status_code == 302
    member = Membership.objects.get(account=account, user__email="bench-save-1@example.com")
    scale_saves.accept_invitation(member)

    page = reverse("team:member_edit", args=[member.pk])
    edit = scale_saves.member_form(
        csrf="t", name="Ann B", email="", facility_ids=chosen[1:], edit=True
    )
    assert scale_saves.fields_missing(edit, client.get(page).content.decode()) == []
    confirm = client.post(page, edit)
    assert confirm.status_code == 200
    carried = scale_saves.carried_fields(confirm.content.decode())
    assert carried == {name: value for name, value in edit.items() if name != "csrfmiddlewaretoken"}
    assert client.post(page, {**carried, "password": PASSWORD}).status_code == 302

    member.refresh_from_db()
    assert (member.is_invited, member.user.name) == (False, "Ann B")
    assert list(member.facilities.values_list("facility_id", flat=True)) == chosen[1:]


# --- The saves: the budget --------------------------------------------------------------------


def _row(large: list[tuple[int, float, int]], demo: list[tuple[int, float, int]]):
    def samples(figures):
        return [
            scale_saves.SaveSample(status, ms, queries, 7, 35_000)
            for status, ms, queries in figures
        ]

    large_samples, demo_samples = samples(large), samples(demo)
    for sample in large_samples + demo_samples:
        if sample.status != 302:
            sample.problem = f"answered {sample.status}"
    row = scale_saves.SaveRow(
        "key_rename",
        warm_up={"large": large_samples[0], "demo": demo_samples[0]},
        rounds={"large": large_samples[1:], "demo": demo_samples[1:]},
    )
    scale_saves.judge(row)
    return row


def test_a_save_within_budget_passes():
    row = _row([(302, 900.0, 12)] * 4, [(302, 20.0, 12)] * 4)
    assert row.breaches == []


@pytest.mark.parametrize(
    ("large", "breach"),
    [
        ([(400, 3.0, 1)] + [(302, 50.0, 12)] * 3, "large: answered 400"),
        ([(302, 1_500.0, 12)] * 4, "large: over 1000 ms"),
        ([(302, 50.0, 13)] * 4, "13 queries, the demo 12"),
    ],
)
def test_a_400_a_slow_save_or_more_queries_than_the_demos_is_over_budget(large, breach):
    row = _row(large, [(302, 20.0, 12)] * 4)
    assert row.breaches == [breach]


def test_only_measures_the_pages_named_by_a_prefix_and_refuses_a_prefix_of_none():
    pages = scale.selected("reports:,api:facility_list")
    assert pages and all(
        p.name.startswith("reports:") or p.name == "api:facility_list" for p in pages
    )
    assert {p.name for p in pages} >= {"reports:code_disclosures", "reports:overlocks_by_age"}
    assert scale.selected(None) == scale.PAGES
    with pytest.raises(SystemExit):
        scale.parse(["--only", "nosuchpage:"])
