"""Every portal page and API endpoint at the largest operator's size, beside the demo account.

    .venv/bin/python bench/scale.py [--ci] [--facilities 3000] [--events 5000000]
        [--database davinci_scale] [--reload] [--repeat 5] [--save-rounds 3] [--port 8131]
        [--redis-db 11] [--only reports:,api:events]

What it does, on loopback only:
  1. creates (or reuses) the PostgreSQL database --database (its name must start with
     davinci_scale), migrates it, and, unless it already holds the operator at this size
     (the database's comment says which), drops it and loads: the demo accounts
     (`seed_demo`) and the largest operator (bench/scale_data.py: 3,000 facilities, 300,000
     units, 330,000 locks, 60 members, 20 keys of 500-2,000 chosen facilities, --events
     LockEvents over a year, 50,000 release attempts, a webhook endpoint with 200,000
     deliveries in its log, 300,000 FMS events with their automation runs; the demo's endpoint
     gets 60 deliveries, its feed 180 events); prints the time the load took and the size of
     every big table per row;
  2. serves the portal with the production harness (harness/production.py: gunicorn, DEBUG
     off, the full middleware) under bench/scale_settings.py, which adds one bench-only
     middleware reporting each response's server time and SQL statements in headers;
  3. signs in as the owner of each account (and as a Client Call Center member with one
     chosen facility), and requests every page of PAGES for the large account and for the
     demo account (Harbor Self Storage) in turn: one warm-up each, then --repeat rounds;
  4. prints one row per page: server time (median), queries, body bytes, for both accounts
     and their ratio, and exits 1 when a page is over budget: server time above 300 ms or
     above 3x the demo's, more queries than the demo's, or a body above 200 KB;
  5. saves, as each account's owner, a key and a member with two thirds of its facilities
     (2,000 of 3,000) through the facility picker's one field: created, renamed, edited,
     median of --save-rounds after a warm-up (bench/scale_saves.py), and prints a second
     table; a save is over budget when it answers anything but 302, the database does not
     hold what was posted, its median is above 1 s, or it runs a number of queries other
     than the demo's.
--ci is a small size (300 facilities, 200,000 events) that runs in a few minutes.
--only measures the pages whose URL name starts with one of its comma-separated prefixes
(and no saves), for a quick look at a few pages on an already loaded database; the budget is
the same.
Every URL pattern of the portal is either in PAGES or in NOT_MEASURED with its reason
(tests/core/test_scale_bench.py holds that), so a new page cannot go unmeasured.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import hashlib
import http.client
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, for harness

from bench import scale_data, scale_saves
from bench.scale_data import CI_SIZE, LARGE_CHOSEN_MEMBER, LARGE_OWNER, LARGE_PASSWORD, Size
from harness import production

POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DEMO_SLUG = "harbor-self-storage"
DEMO_OWNER = "owner@example.com"
DEMO_CHOSEN_MEMBER = "downtown@example.com"  # Client Call Center, Harbor Downtown only
DEMO_ALL_MEMBER = "manager@example.com"
DEMO_PASSWORD = "davinci-demo"  # noqa: S105 - seed_demo's published password
# The demo has one key, for All Facilities; the large account's keys choose facilities. So
# the two are compared like for like, the bench gives the demo a key with chosen facilities.
DEMO_CHOSEN_KEY = "Bench: chosen facilities"
BUDGET_MS = 300.0
BUDGET_RATIO = 3.0
BUDGET_BYTES = 200 * 1024
TABLES = [
    ("LockEvent", "facilities_lockevent"),
    ("Unit", "facilities_unit"),
    ("Lock", "facilities_lock"),
    ("ReleaseAttempt", "facilities_releaseattempt"),
    ("AuditEvent", "accounts_auditevent"),
    ("Facility", "facilities_facility"),
    ("ApiKey.facilities", "integrations_apikey_facilities"),
    ("Webhook Event", "webhooks_event"),
    ("Webhook Delivery", "webhooks_delivery"),
    ("Webhook Attempt", "webhooks_attempt"),
    ("FmsEvent", "automations_fmsevent"),
    ("AutomationRun", "automations_automationrun"),
]
# The demo endpoint's delivery log: more than a page (50), as a used endpoint's.
DEMO_WEBHOOK_DELIVERIES = 60
# The demo's FMS events: more runs than two pages of the activity list (50 a page), and
# payments for the unit the pages are measured on, so that its filtered list fills a page
# (as the large account's does: a page of 5 rows against one of 50 measures rows, not scale).
DEMO_FMS_EVENTS = 120
DEMO_UNIT_PAYMENTS = 60


def _bench_secret(label: str) -> str:
    # Fixed, bench-only secrets: a reused database must decrypt the codes and key secrets an
    # earlier run wrote, and check the digests.
    digest = hashlib.sha256(f"davinci-scale-bench:{label}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def log(message: str = "") -> None:
    print(message, flush=True)


# --- What is measured ------------------------------------------------------------------------


@dataclass
class Subject:
    """One account's objects that the pages are opened with."""

    account: str
    slug: str
    facility_pk: int
    facility_id: str
    city: str
    unit_pk: int
    unit_number: str
    lock_pk: int
    serial: str
    key_pk: int
    endpoint_pk: int
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    member_all_pk: int
    member_chosen_pk: int
    rule_pk: int
    owner_email: str
    chosen_email: str
    password: str = field(repr=False)
    unit_list_next: str = ""
    feed_week_ago: str = ""  # the event feed's cursor a week back (a poller a week behind)
    # The delivery log's `?before=`: the middle of the endpoint's log.
    log_before: int = 2**31
    # A rule with chosen facilities (1,000 at full size), and the automation activity's
    # `?before=`: the middle of the account's runs.
    rule_chosen_pk: int = 0
    runs_before: int = 2**62


@dataclass(frozen=True)
class Page:
    """A page or endpoint: its URL name, a label, how to build its path for an account, who
    opens it (owner, chosen: a member with one chosen facility, anonymous, api: the API key)
    and the answers it should give."""

    name: str
    label: str
    path: Callable[[Subject], str]
    who: str = "owner"
    expect: tuple[int, ...] = (200,)


def _url(name: str, query: dict | None = None, **kwargs) -> str:
    from django.urls import reverse

    return reverse(name, kwargs=kwargs or None) + (f"?{urlencode(query)}" if query else "")


def _days_ago(days: int) -> str:
    from django.utils import timezone

    return (timezone.now().date() - timedelta(days=days)).isoformat()


def _fragment(serial: str) -> str:
    return serial[2:6]


PAGES: list[Page] = [
    Page("home", "Home (redirects to Facilities)", lambda s: _url("home"), expect=(302,)),
    # Facilities
    Page("facilities:facility_list", "Facilities list", lambda s: _url("facilities:facility_list")),
    Page(
        "facilities:facility_list",
        "Facilities list, last page",
        lambda s: _url("facilities:facility_list", {"page": 999_999}),
    ),
    Page(
        "facilities:facility_list",
        "Facilities list (member, 1 facility)",
        lambda s: _url("facilities:facility_list"),
        who="chosen",
    ),
    Page(
        "facilities:facility_create", "Add facility", lambda s: _url("facilities:facility_create")
    ),
    Page(
        "facilities:search",
        "Search by unit number",
        lambda s: _url("facilities:search", {"q": s.unit_number}),
    ),
    Page(
        "facilities:search",
        "Search by serial (exact: opens the lock)",
        lambda s: _url("facilities:search", {"q": s.serial}),
        expect=(302,),
    ),
    Page(
        "facilities:search",
        "Search by part of a serial",
        lambda s: _url("facilities:search", {"q": _fragment(s.serial)}),
    ),
    Page(
        "facilities:search",
        "Search by unit number (member, 1 facility)",
        lambda s: _url("facilities:search", {"q": s.unit_number}),
        who="chosen",
    ),
    Page(
        "facilities:facility_detail",
        "Facility: units",
        lambda s: _url("facilities:facility_detail", pk=s.facility_pk),
    ),
    Page(
        "facilities:facility_detail",
        "Facility: units, by unit number",
        lambda s: _url("facilities:facility_detail", {"q": s.unit_number}, pk=s.facility_pk),
    ),
    Page(
        "facilities:facility_detail",
        "Facility: units, by serial",
        lambda s: _url("facilities:facility_detail", {"q": s.serial}, pk=s.facility_pk),
    ),
    Page(
        "facilities:facility_detail",
        "Facility: units, Assigned Overlock",
        lambda s: _url(
            "facilities:facility_detail", {"status": "assigned_overlock"}, pk=s.facility_pk
        ),
    ),
    Page(
        "facilities:facility_detail",
        "Facility: units, page 2",
        lambda s: _url("facilities:facility_detail", {"page": 2}, pk=s.facility_pk),
    ),
    Page(
        "facilities:facility_edit",
        "Facility: edit",
        lambda s: _url("facilities:facility_edit", pk=s.facility_pk),
    ),
    Page(
        "facilities:facility_locks",
        "Facility: locks tab",
        lambda s: _url("facilities:facility_locks", pk=s.facility_pk),
    ),
    Page(
        "facilities:facility_locks",
        "Facility: locks tab, search",
        lambda s: _url("facilities:facility_locks", {"q": _fragment(s.serial)}, pk=s.facility_pk),
    ),
    Page(
        "facilities:facility_locks",
        "Facility: locks tab, Available",
        lambda s: _url("facilities:facility_locks", {"status": "available"}, pk=s.facility_pk),
    ),
    Page(
        "facilities:unit_create",
        "Add unit",
        lambda s: _url("facilities:unit_create", pk=s.facility_pk),
    ),
    Page(
        "facilities:lock_create",
        "Add lock",
        lambda s: _url("facilities:lock_create", pk=s.facility_pk),
    ),
    Page(
        "facilities:facility_import",
        "Import (form)",
        lambda s: _url("facilities:facility_import", pk=s.facility_pk),
    ),
    Page(
        "facilities:facility_export",
        "Export CSV",
        lambda s: _url("facilities:facility_export", pk=s.facility_pk),
    ),
    Page(
        "facilities:unit_detail",
        "Unit page",
        lambda s: _url("facilities:unit_detail", pk=s.unit_pk),
    ),
    Page(
        "facilities:unit_edit", "Unit: edit", lambda s: _url("facilities:unit_edit", pk=s.unit_pk)
    ),
    Page(
        "facilities:lock_detail",
        "Lock page",
        lambda s: _url("facilities:lock_detail", pk=s.lock_pk),
    ),
    Page(
        "facilities:release_activity",
        "Release activity",
        lambda s: _url("facilities:release_activity"),
    ),
    # Integrations
    Page(
        "integrations:api_settings",
        "Integrations: API Settings",
        lambda s: _url("integrations:api_settings"),
    ),
    Page(
        "integrations:api_key_create",
        "Create API Key",
        lambda s: _url("integrations:api_key_create"),
    ),
    Page(
        "integrations:api_key_detail",
        "API key page (chosen facilities, usage chart)",
        lambda s: _url("integrations:api_key_detail", pk=s.key_pk),
    ),
    Page(
        "integrations:api_key_roll",
        "API key: roll secret (form)",
        lambda s: _url("integrations:api_key_roll", pk=s.key_pk),
    ),
    Page(
        "integrations:api_key_delete",
        "API key: delete (confirm)",
        lambda s: _url("integrations:api_key_delete", pk=s.key_pk),
    ),
    Page(
        "integrations:facility_list",
        "Integrations: Facilities tab",
        lambda s: _url("integrations:facility_list"),
    ),
    Page(
        "integrations:facility_list",
        "Integrations: Facilities tab, search by city",
        lambda s: _url("integrations:facility_list", {"q": s.city}),
    ),
    Page(
        "integrations:activity", "Integrations: Activity", lambda s: _url("integrations:activity")
    ),
    Page("webhooks:endpoint_list", "Webhooks", lambda s: _url("webhooks:endpoint_list")),
    Page(
        "webhooks:endpoint_create",
        "Webhooks: add endpoint",
        lambda s: _url("webhooks:endpoint_create"),
    ),
    Page(
        "webhooks:endpoint_detail",
        "Webhook endpoint page (chosen facility)",
        lambda s: _url("webhooks:endpoint_detail", pk=s.endpoint_pk),
    ),
    Page(
        "webhooks:endpoint_log",
        "Webhook delivery log",
        lambda s: _url("webhooks:endpoint_log", pk=s.endpoint_pk),
    ),
    Page(
        "webhooks:endpoint_log",
        "Webhook delivery log, a page in the middle",
        lambda s: _url("webhooks:endpoint_log", {"before": s.log_before}, pk=s.endpoint_pk),
    ),
    Page(
        "webhooks:endpoint_roll",
        "Webhook endpoint: roll secret (form)",
        lambda s: _url("webhooks:endpoint_roll", pk=s.endpoint_pk),
    ),
    Page(
        "webhooks:endpoint_delete",
        "Webhook endpoint: delete (confirm)",
        lambda s: _url("webhooks:endpoint_delete", pk=s.endpoint_pk),
    ),
    # Integrations → Automations
    Page("automations:rule_list", "Automations: rules", lambda s: _url("automations:rule_list")),
    Page(
        "automations:rule_create",
        "Automations: add rule",
        lambda s: _url("automations:rule_create"),
    ),
    Page(
        "automations:rule_edit",
        "Automations: edit rule",
        lambda s: _url("automations:rule_edit", pk=s.rule_pk),
    ),
    Page(
        "automations:rule_edit",
        "Automations: edit rule (chosen facilities)",
        lambda s: _url("automations:rule_edit", pk=s.rule_chosen_pk),
    ),
    Page(
        "automations:rule_delete",
        "Automations: delete rule (a default: refused, said why)",
        lambda s: _url("automations:rule_delete", pk=s.rule_pk),
    ),
    Page("automations:activity", "Automations: activity", lambda s: _url("automations:activity")),
    Page(
        "automations:activity",
        "Automations: activity, a page in the middle",
        lambda s: _url("automations:activity", {"before": s.runs_before}),
    ),
    Page(
        "automations:activity",
        "Automations: activity, skipped",
        lambda s: _url("automations:activity", {"result": "skipped"}),
    ),
    Page(
        "automations:activity",
        "Automations: activity, skipped, a page in the middle",
        lambda s: _url("automations:activity", {"result": "skipped", "before": s.runs_before}),
    ),
    Page(
        "automations:activity",
        "Automations: activity by unit and result",
        lambda s: _url("automations:activity", {"unit": s.unit_number, "result": "skipped"}),
    ),
    Page(
        "automations:activity",
        "Automations: activity of one facility (the busiest)",
        lambda s: _url("automations:activity", {"facility": s.facility_id}),
    ),
    Page(
        "automations:activity",
        "Automations: activity of one facility, a page in the middle",
        lambda s: _url(
            "automations:activity", {"facility": s.facility_id, "before": s.runs_before}
        ),
    ),
    Page(
        "automations:payments_upload",
        "Automations: upload payments",
        lambda s: _url("automations:payments_upload"),
    ),
    # Team
    Page("team:member_list", "Team", lambda s: _url("team:member_list")),
    Page("team:member_add", "Add User", lambda s: _url("team:member_add")),
    Page(
        "team:member_edit",
        "Member edit (All Facilities)",
        lambda s: _url("team:member_edit", pk=s.member_all_pk),
    ),
    Page(
        "team:member_edit",
        "Member edit (chosen facilities)",
        lambda s: _url("team:member_edit", pk=s.member_chosen_pk),
    ),
    # Your account
    Page("accounts:your_account", "Your account", lambda s: _url("accounts:your_account")),
    Page(
        "facilities:facility_picker",
        "Facility picker: search by city",
        lambda s: _url("facilities:facility_picker", {"q": s.city}),
    ),
    Page("accounts:invitations", "Your invitations", lambda s: _url("accounts:invitations")),
    Page(
        "facilities:history_archive_list",
        "History archives",
        lambda s: _url("facilities:history_archive_list"),
    ),
    # Reports: the default period (the last 30 days) or no period, and one facility.
    Page("reports:lock_usage", "Reports: lock usage", lambda s: _url("reports:lock_usage")),
    Page(
        "reports:lock_usage",
        "Reports: lock usage of a facility, a year",
        lambda s: _url(
            "reports:lock_usage",
            {"facility": s.facility_id, "start": _days_ago(365), "end": _days_ago(0)},
        ),
    ),
    Page(
        "reports:overlocks_by_age",
        "Reports: overlocks by age",
        lambda s: _url("reports:overlocks_by_age"),
    ),
    Page(
        "reports:remove_overlock_queue",
        "Reports: remove-overlock queue",
        lambda s: _url("reports:remove_overlock_queue"),
    ),
    Page(
        "reports:code_disclosures",
        "Reports: code disclosures",
        lambda s: _url("reports:code_disclosures"),
    ),
    Page(
        "reports:code_disclosures",
        "Reports: code disclosures of a facility",
        lambda s: _url("reports:code_disclosures", {"facility": s.facility_id}),
    ),
    Page("reports:audit_export", "Reports: audit export", lambda s: _url("reports:audit_export")),
    Page("accounts:password_change", "Change password", lambda s: _url("accounts:password_change")),
    Page("accounts:two_factor", "Two-factor", lambda s: _url("accounts:two_factor")),
    Page(
        "accounts:two_factor_setup",
        "Two-factor: set up",
        lambda s: _url("accounts:two_factor_setup"),
    ),
    Page(
        "accounts:passkey_add", "Two-factor: add a passkey", lambda s: _url("accounts:passkey_add")
    ),
    # Public
    Page(
        "release:page",
        "Public release page",
        lambda s: _url("release:page", account_slug=s.slug),
        who="anonymous",
    ),
    Page(
        "release:page",
        "Public release page, find by city",
        lambda s: _url("release:page", {"find": s.city}, account_slug=s.slug),
        who="anonymous",
    ),
    Page(
        "release:facility_search",
        "Public release page: facility search as you type",
        lambda s: _url("release:facility_search", {"find": s.city}, account_slug=s.slug),
        who="anonymous",
    ),
    Page(
        "release:requested",
        "Public release page: requested",
        lambda s: _url("release:requested", account_slug=s.slug),
        who="anonymous",
    ),
    Page("api:docs", "API documentation", lambda s: _url("api:docs"), who="anonymous"),
    Page("api:openapi", "OpenAPI document", lambda s: _url("api:openapi"), who="anonymous"),
    # API (the key with chosen facilities)
    Page(
        "api:facility_list", "API: facilities list", lambda s: _url("api:facility_list"), who="api"
    ),
    Page(
        "api:facility_detail",
        "API: facility",
        lambda s: _url("api:facility_detail", facility_id=s.facility_id),
        who="api",
    ),
    Page(
        "api:unit_list",
        "API: units list",
        lambda s: _url("api:unit_list", facility_id=s.facility_id),
        who="api",
    ),
    Page("api:unit_list", "API: units list, next page", lambda s: s.unit_list_next, who="api"),
    Page(
        "api:unit_detail",
        "API: unit lookup",
        lambda s: _url("api:unit_detail", facility_id=s.facility_id, unit_number=s.unit_number),
        who="api",
    ),
    Page(
        "api:lock_detail",
        "API: lock lookup",
        lambda s: _url("api:lock_detail", facility_id=s.facility_id, serial=s.serial),
        who="api",
    ),
    Page(
        "api:event_list", "API: event feed, first page", lambda s: _url("api:event_list"), who="api"
    ),
    Page(
        "api:event_list",
        "API: event feed, the last week",
        lambda s: _url("api:event_list", {"after": s.feed_week_ago}),
        who="api",
    ),
]

POST_ONLY = "POST only: an action, not a page (GET answers 405)"
# Every other URL name of the project, and why it is not measured.
NOT_MEASURED: dict[str, str] = {
    "healthz": "load-balancer probe: no account's data",
    "readyz": "load-balancer probe: no account's data",
    "favicon": "a redirect to the static icon: no account's data",
    "accounts:login": "before signing in: no account's data",
    "accounts:password_reset": "before signing in: no account's data",
    "accounts:password_reset_done": "before signing in: no account's data",
    "accounts:password_reset_complete": "before signing in: no account's data",
    "accounts:sign_in_second_step": "the sign-in's second step, reached from the first only",
    "accounts:password_reset_confirm": "a one-time link from an email",
    "accounts:email_confirm": "a one-time link from an email",
    "team:invitation_accept": "a one-time link from an email",
    "api:not_found": "the JSON 404 of any other path under /api/",
    "facilities:history_archive_download": "one archive's file, streamed: its cost is the "
    "file's size, not the account's",
    **{
        name: POST_ONLY
        for name in [
            "accounts:logout",
            "accounts:switch_account",
            "accounts:email_change",
            "accounts:sessions_end_others",
            "accounts:recovery_codes_regenerate",
            "accounts:two_factor_disable",
            "accounts:passkey_rename",
            "accounts:passkey_remove",
            "accounts:account_time_zone",
            "accounts:account_history_retention",
            "accounts:invitation_accept",
            "accounts:invitation_decline",
            "team:member_invitation_withdraw",
            "facilities:facility_import_commit",
            "facilities:unit_assign_lock",
            "facilities:lock_reveal",
            "facilities:lock_status",
            "facilities:lock_assign",
            "facilities:lock_unassign",
            "facilities:lock_code",
            "facilities:lock_release",
            "facilities:lock_notify_new_tenant",
            "integrations:api_key_reveal",
            "integrations:api_key_disable",
            "integrations:api_key_enable",
            "integrations:facility_include",
            "webhooks:endpoint_reveal",
            "webhooks:endpoint_disable",
            "webhooks:endpoint_enable",
            "webhooks:endpoint_test",
            "webhooks:endpoint_resend",
            "automations:rule_enable",
            "automations:rule_move",
            "automations:payments_apply",
            "api:unit_event_create",
            "team:member_invite_again",
            "team:ownership_transfer",
            "team:member_two_factor_reset",
            "team:two_factor_policy",
        ]
    },
    # The API's writes: one unit or lock, found by its unique number or serial through the
    # key's scope (the lookups' own indexed reads, measured above), then the portal's
    # row-locked change: nothing in them grows with the account.
    "api:unit_release": "a write (POST, Idempotency-Key): one unit's lock, as the lookup reads it",
    "api:lock_status": "a write (POST, Idempotency-Key): one lock, as the lookup reads it",
}
NOT_MEASURED_NAMESPACES = {
    "admin": "the Django admin: platform staff, not an account's member",
    "otp_webauthn": "the browser's passkey ceremonies (JSON, driven by JavaScript)",
}


# --- Database --------------------------------------------------------------------------------


def _maintenance():
    import psycopg

    return psycopg.connect(f"{POSTGRES}/postgres", autocommit=True)


def database_marker(name: str) -> str | None:
    """The database's comment (None if the database does not exist, "" without comment)."""
    with _maintenance() as connection:
        row = connection.execute(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database"
            " WHERE datname = %s",
            [name],
        ).fetchone()
    return None if row is None else row[0]


def recreate_database(name: str) -> None:
    from psycopg import sql

    with _maintenance() as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def mark_database(name: str, marker: str) -> None:
    from psycopg import sql

    with _maintenance() as connection:
        connection.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(marker)
            )
        )


def add_demo_references() -> None:
    """What the demo needs to be compared like for like, once: a key with chosen facilities
    (Harbor Downtown and Eastside; the large account's keys all choose theirs), and a few
    release attempts and Activity lines (an empty list skips the query that reads a page,
    so a demo that was never used would run one query fewer than any used account)."""
    from django.utils import timezone

    from davinci.accounts.models import Account, AuditEvent, Membership
    from facilities.models import Facility, ReleaseAttempt, Unit
    from integrations import secrets as api_secrets
    from integrations.models import ApiKey

    account = Account.objects.get(slug=DEMO_SLUG)
    if ApiKey.objects.filter(account=account, name=DEMO_CHOSEN_KEY).exists():
        return
    key = ApiKey(
        account=account,
        name=DEMO_CHOSEN_KEY,
        api_key=api_secrets.generate_api_key(),
        all_facilities=False,
    )
    key.set_secret(api_secrets.generate_api_secret())
    key.save()
    key.facilities.set(Facility.objects.filter(account=account, include_in_api=True))
    unit = Unit.objects.filter(facility__account=account, lock__isnull=False).first()
    for outcome in (ReleaseAttempt.Outcome.SENT, ReleaseAttempt.Outcome.CONTACT_MISMATCH):
        ReleaseAttempt.objects.create(
            account=account,
            facility=unit.facility,
            unit_number=unit.unit_number,
            channel=ReleaseAttempt.Channel.EMAIL,
            contact=unit.tenant_email or "tenant@example.com",
            unit=unit,
            lock=unit.lock,
            ip="198.51.100.1",
            outcome=outcome,
        )
    for action in (AuditEvent.Action.KEY_CREATED, AuditEvent.Action.KEY_EDITED):
        AuditEvent.objects.create(
            account=account,
            action=action,
            target_type="api_key",
            target_id=key.api_key,
            target_repr=f"{key.name} ({key.api_key})",
            ip="192.0.2.1",
        )
    chosen = Membership.objects.get(account=account, user__email=DEMO_CHOSEN_MEMBER)
    scale_data.delivery_log_load(
        facility=chosen.facilities.order_by("pk").first(),
        count=DEMO_WEBHOOK_DELIVERIES,
        rng=random.Random(21),
        now=timezone.now(),
    )


def add_demo_automations() -> None:
    """The demo's automations, as a used account's: a rule at Harbor Downtown beside the two
    defaults, and DEMO_FMS_EVENTS events with their runs (the large account's generator)."""
    from django.utils import timezone

    from davinci.accounts.models import Account, Membership
    from facilities.models import Lock, LockStatus

    account = Account.objects.get(slug=DEMO_SLUG)
    chosen = Membership.objects.get(account=account, user__email=DEMO_CHOSEN_MEMBER)
    owner = Membership.objects.get(account=account, user__email=DEMO_OWNER)
    scale_data.automation_rules_load(
        account=account, chosen=[list(chosen.facilities.values_list("pk", flat=True))]
    )
    key = account.api_keys.order_by("pk").first()
    feed = {
        "account": account,
        "rng": random.Random(25),
        "now": timezone.now(),
        "days": 30,
        "api_key_id": key.pk if key else None,
        "uploaded_by_id": owner.user_id,
    }
    scale_data.automation_log_load(count=DEMO_FMS_EVENTS, **feed)
    # The unit subjects() measures: the first Assigned Overlock lock's, at the member's facility.
    lock = (
        Lock.objects.filter(
            facility=chosen.facilities.order_by("pk").first(),
            status=LockStatus.ASSIGNED_OVERLOCK,
        )
        .order_by("pk")
        .first()
    )
    scale_data.automation_log_load(
        count=DEMO_UNIT_PAYMENTS,
        shares={"payment_received": 1},
        unit_pks={lock.unit_id},
        **feed,
    )


def table_sizes() -> list[dict]:
    """Rows, heap bytes, index bytes and total bytes (TOAST included) of the big tables."""
    from django.db import connection

    sizes = []
    with connection.cursor() as cursor:
        for label, table in TABLES:
            cursor.execute(
                f"SELECT count(*), pg_relation_size(%s), pg_indexes_size(%s),"  # noqa: S608
                f' pg_total_relation_size(%s) FROM "{table}"',
                [table, table, table],
            )
            rows, heap, indexes, total = cursor.fetchone()
            sizes.append(
                {
                    "label": label,
                    "table": table,
                    "rows": rows,
                    "heap": heap,
                    "indexes": indexes,
                    "total": total,
                }
            )
    return sizes


def index_sizes(table: str) -> list[tuple[str, int]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index"
            " WHERE indrelid = %s::regclass ORDER BY 2 DESC",
            [table],
        )
        return cursor.fetchall()


def print_sizes() -> None:
    from django.db import connection

    log("-- table sizes (the whole database: both accounts)")
    log(
        f"   {'table':<20} {'rows':>11} {'heap':>9} {'indexes':>9} {'total':>9} "
        f"{'B/row heap':>10} {'B/row idx':>9} {'B/row all':>9}"
    )
    for size in table_sizes():
        rows = max(size["rows"], 1)
        log(
            f"   {size['label']:<20} {size['rows']:>11,} {_mb(size['heap']):>9} "
            f"{_mb(size['indexes']):>9} {_mb(size['total']):>9} {size['heap'] / rows:10.0f} "
            f"{size['indexes'] / rows:9.0f} {size['total'] / rows:9.0f}"
        )
    log("   LockEvent's indexes:")
    for name, size in index_sizes("facilities_lockevent"):
        log(f"     {name:<60} {_mb(size):>9}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        log(f"   database: {_mb(cursor.fetchone()[0])}")


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


# --- The two accounts' subjects ----------------------------------------------------------------


def subjects() -> tuple[Subject, Subject]:
    from django.db.models import Max, Min

    from automations.models import AutomationRun, Rule
    from davinci import crypto
    from davinci.accounts.models import Account, Membership, Role
    from facilities.models import Facility, Lock, LockStatus
    from integrations.models import ApiKey
    from webhooks.models import Attempt, Endpoint
    from webhooks.secrets import generate_secret

    def webhook_endpoint(account: Account, facility: Facility) -> Endpoint:
        """The account's endpoint for the facility (made once, disabled: nothing is sent)."""
        endpoint = Endpoint.objects.filter(account=account, facilities=facility).first()
        if endpoint is None:
            endpoint = Endpoint(
                account=account,
                url="https://hooks.example.com/bench",
                event_types=["overlock.released"],
                all_facilities=False,
                is_active=False,
            )
            endpoint.set_secret(generate_secret())
            endpoint.save()
            endpoint.facilities.set([facility])
        return endpoint

    def runs_middle(account: Account) -> int:
        ids = AutomationRun.objects.filter(account=account).aggregate(low=Min("id"), high=Max("id"))
        return (ids["low"] + ids["high"]) // 2 if ids["low"] is not None else 2**62

    def log_middle(endpoint: Endpoint) -> int:
        ids = Attempt.objects.filter(endpoint=endpoint).aggregate(low=Min("id"), high=Max("id"))
        return (ids["low"] + ids["high"]) // 2 if ids["low"] is not None else 2**31

    def subject(slug: str, owner: str, chosen: str, password: str, key_filter: dict) -> Subject:
        account = Account.objects.get(slug=slug)
        chosen_member = Membership.objects.get(account=account, user__email=chosen)
        facility = chosen_member.facilities.order_by("pk").first()
        lock = (
            Lock.objects.filter(facility=facility, status=LockStatus.ASSIGNED_OVERLOCK)
            .select_related("unit")
            .order_by("pk")
            .first()
        )
        key = (
            ApiKey.objects.filter(account=account, all_facilities=False, **key_filter)
            .order_by("pk")
            .first()
        )
        if not key.facilities.filter(pk=facility.pk).exists():
            key.facilities.add(facility)  # the API is measured on a facility the key reads
        if "events" not in key.permissions:  # the event feed is measured with it too
            key.permissions = [*key.permissions, "events"]
            key.save(update_fields=["permissions"])
        member_all = (
            Membership.objects.filter(account=account, all_facilities=True)
            .exclude(role=Role.OWNER)
            .order_by("pk")
            .first()
        )
        city = facility.address.split(",")[1].strip() if "," in facility.address else facility.name
        endpoint = webhook_endpoint(account, facility)
        return Subject(
            account=account.name,
            slug=slug,
            facility_pk=facility.pk,
            facility_id=facility.facility_id,
            city=city,
            unit_pk=lock.unit.pk,
            unit_number=lock.unit.unit_number,
            lock_pk=lock.pk,
            serial=lock.serial,
            key_pk=key.pk,
            endpoint_pk=endpoint.pk,
            api_key=key.api_key,
            api_secret=crypto.decrypt(key.secret_encrypted),
            member_all_pk=member_all.pk,
            member_chosen_pk=chosen_member.pk,
            rule_pk=Rule.objects.get(account=account, default=Rule.Default.PAYMENT).pk,
            owner_email=owner,
            chosen_email=chosen,
            password=password,
            log_before=log_middle(endpoint),
            rule_chosen_pk=Rule.objects.filter(account=account, all_facilities=False)
            .order_by("pk")
            .first()
            .pk,
            runs_before=runs_middle(account),
        )

    # The large account's key with the most chosen facilities (2,000 at full size).
    large = subject(
        scale_data.LARGE_SLUG,
        LARGE_OWNER,
        LARGE_CHOSEN_MEMBER,
        LARGE_PASSWORD,
        {"name": "Call Center 01"},
    )
    demo = subject(
        DEMO_SLUG, DEMO_OWNER, DEMO_CHOSEN_MEMBER, DEMO_PASSWORD, {"name": DEMO_CHOSEN_KEY}
    )
    assert Facility.objects.get(pk=large.facility_pk).include_in_api
    return large, demo


# --- Measuring ---------------------------------------------------------------------------------


@dataclass
class Sample:
    status: int
    server_ms: float
    wall_ms: float
    queries: int | None
    size: int
    gzip_size: int
    download: bool = False
    problem: str = ""


@dataclass
class Row:
    page: Page
    large: list[Sample]
    demo: list[Sample]
    breaches: list[str] = field(default_factory=list)


def _median(samples: list[Sample], attribute: str) -> float:
    values = [getattr(s, attribute) for s in samples if getattr(s, attribute) is not None]
    return statistics.median(values) if values else float("nan")


class Clients:
    """One signed-in (or anonymous) connection per account and role."""

    def __init__(self, port: int, large: Subject, demo: Subject):
        self.port = port
        self.subjects = {"large": large, "demo": demo}
        self.http: dict[tuple[str, str], production.Http] = {}

    def get(self, account: str, who: str) -> production.Http:
        if (account, who) not in self.http:
            subject = self.subjects[account]
            client = production.Http(self.port, timeout=65)
            if who in ("owner", "chosen"):
                email = subject.owner_email if who == "owner" else subject.chosen_email
                answer = client.sign_in(email, subject.password)
                if answer.status != 302:
                    raise SystemExit(f"{email} could not sign in: {answer.status}")
            self.http[(account, who)] = client
        return self.http[(account, who)]

    def sample(self, account: str, page: Page, path: str) -> Sample:
        client = self.get(account, page.who)
        subject = self.subjects[account]
        headers = {}
        if page.who == "api":
            headers = {"X-API-Key": subject.api_key, "X-API-Secret": subject.api_secret}
        started = time.perf_counter()
        try:
            response = client.get(path, headers=headers)
        except (OSError, http.client.HTTPException) as exc:
            client.close()
            wall = (time.perf_counter() - started) * 1000
            return Sample(0, wall, wall, None, 0, 0, problem=f"no answer: {exc!r}")
        wall = (time.perf_counter() - started) * 1000
        server = response.headers.get("x-bench-server-ms")
        queries = response.headers.get("x-bench-queries")
        problem = ""
        if response.status not in page.expect:
            problem = f"answered {response.status}, expected {'/'.join(map(str, page.expect))}"
        return Sample(
            status=response.status,
            server_ms=float(server) if server else wall,
            wall_ms=wall,
            queries=int(queries) if queries else None,
            size=len(response.body),
            gzip_size=len(gzip.compress(response.body)),
            download="attachment" in response.headers.get("content-disposition", ""),
            problem=problem,
        )


def selected(only: str | None) -> list[Page]:
    """PAGES, or those whose URL name starts with one of `only`'s comma-separated prefixes."""
    prefixes = tuple(p.strip() for p in (only or "").split(",") if p.strip())
    return [page for page in PAGES if not prefixes or page.name.startswith(prefixes)]


def measure(
    clients: Clients, large: Subject, demo: Subject, repeat: int, pages: list[Page] | None = None
) -> list[Row]:
    """Each page: a warm-up for each account, then `repeat` rounds alternating the two, so
    both are measured in the same minute. A page that fails or takes over 10 s is not
    repeated (its one answer is the figure)."""
    rows = []
    for page in PAGES if pages is None else pages:
        paths = {"large": page.path(large), "demo": page.path(demo)}
        samples: dict[str, list[Sample]] = {"large": [], "demo": []}
        give_up = set()
        for account in samples:
            warm = clients.sample(account, page, paths[account])
            if warm.problem or warm.wall_ms > 10_000:
                samples[account].append(warm)
                give_up.add(account)
        for _ in range(repeat):
            for account in samples:
                if account not in give_up:
                    samples[account].append(clients.sample(account, page, paths[account]))
        row = Row(page, samples["large"], samples["demo"])
        judge(row)
        rows.append(row)
        log(_line(row))
    return rows


def judge(row: Row, noise_ms: float = 10.0) -> None:
    """The issue's budget: server time <= 300 ms and <= 3x the demo's (a difference under
    `noise_ms` is within the clock's and the machine's noise), the demo's number of
    queries, a body (but a download) <= 200 KB, and the expected answers."""
    for account, samples in (("large", row.large), ("demo", row.demo)):
        problems = sorted({s.problem for s in samples if s.problem})
        row.breaches += [f"{account}: {problem}" for problem in problems]
        if _median(samples, "server_ms") > BUDGET_MS:
            row.breaches.append(f"{account}: over {BUDGET_MS:.0f} ms")
        if not all(s.download for s in samples) and max(s.size for s in samples) > BUDGET_BYTES:
            row.breaches.append(f"{account}: body over {BUDGET_BYTES // 1024} KB")
    large_ms, demo_ms = _median(row.large, "server_ms"), _median(row.demo, "server_ms")
    if large_ms > BUDGET_RATIO * demo_ms and large_ms - demo_ms > noise_ms:
        row.breaches.append(f"{large_ms / demo_ms:.1f}x the demo's time")
    large_q, demo_q = _median(row.large, "queries"), _median(row.demo, "queries")
    if large_q != demo_q:
        row.breaches.append(f"{large_q:g} queries, the demo {demo_q:g}")


def _ms(value: float) -> str:
    return "-" if value != value else f"{value:,.1f}"  # NaN: no figure


def _kb(samples: list[Sample]) -> str:
    return f"{statistics.median(s.size for s in samples) / 1024:,.1f}"


HEADER = (
    "| page | demo ms | large ms | large/demo | demo queries | large queries "
    "| demo KB | large KB | large KB gzip | within budget |"
)


def _line(row: Row) -> str:
    large_ms, demo_ms = _median(row.large, "server_ms"), _median(row.demo, "server_ms")
    ratio = large_ms / demo_ms if demo_ms else float("nan")
    gz = statistics.median(s.gzip_size for s in row.large) / 1024
    verdict = "yes" if not row.breaches else "**no**: " + "; ".join(row.breaches)
    return (
        f"| {row.page.label} | {_ms(demo_ms)} | {_ms(large_ms)} | {ratio:.2f} "
        f"| {_median(row.demo, 'queries'):g} | {_median(row.large, 'queries'):g} "
        f"| {_kb(row.demo)} | {_kb(row.large)} | {gz:,.1f} | {verdict} |"
    )


# --- Run ---------------------------------------------------------------------------------------


def bench_env(directory: Path, database: str, redis_db: int) -> dict[str, str]:
    return production.production_env(
        directory=directory,
        database_url=f"{POSTGRES}/{database}",
        DJANGO_SETTINGS_MODULE="bench.scale_settings",
        PYTHONPATH=str(production.ROOT),
        FIELD_ENCRYPTION_KEYS=_bench_secret("fernet"),
        API_KEY_DIGEST_SECRET=_bench_secret("digest"),
        CACHE_URL=f"redis://127.0.0.1:6379/{redis_db}",
        # The lookups are measured, never limited.
        API_RATE_LIMIT_PER_MINUTE="1000000000",
    )


def prepare(args: argparse.Namespace, size: Size, env: dict[str, str]) -> None:
    """The database at `size`: reused when its comment says it holds it, else loaded."""
    marker = database_marker(args.database)
    reuse = marker == size.marker() and not args.reload
    if not reuse:
        why = "--reload" if args.reload else "not loaded at this size"
        log(f"-- loading {args.database} ({why})")
        recreate_database(args.database)
    started = time.monotonic()
    production.manage(env, "migrate", "--no-input", timeout=1800)
    if reuse:
        log(f"-- reusing {args.database}: it holds this size (--reload loads it again)")
        production.manage(env, "collectstatic", "--no-input", timeout=600)
        _django_setup(env)
        return
    production.manage(env, "seed_demo", "--force")
    production.manage(env, "collectstatic", "--no-input", timeout=600)
    _django_setup(env)
    add_demo_references()
    add_demo_automations()
    scale_data.load(size)
    # The reports read what the nightly task keeps: its first run counts the whole history.
    from reports.services import reports_daily_all

    nightly = time.monotonic()
    reports_daily_all()
    log(f"   {'nightly reports':<22} {'':<52} {time.monotonic() - nightly:7.1f} s")
    vacuum = scale_data.vacuum_analyze()
    log(f"   {'VACUUM ANALYZE':<22} {'':<52} {vacuum:7.1f} s")
    mark_database(args.database, size.marker())
    took = time.monotonic() - started
    log(f"-- loaded in {took:.0f} s (migrate, seed_demo, the operator, VACUUM ANALYZE)")


def _django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=production.ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return f"{cpu}, {os.cpu_count()} CPUs, load {load}; commit {commit or '?'}"


def parse(argv: list[str] | None = None) -> tuple[argparse.Namespace, Size]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ci", action="store_true", help="the small size: 300 facilities, 200k events"
    )
    parser.add_argument("--facilities", type=int, help="default 3,000 (300 with --ci)")
    parser.add_argument(
        "--events", type=int, help="LockEvents; default 5,000,000 (200,000 with --ci)"
    )
    parser.add_argument("--release-attempts", type=int)
    parser.add_argument("--keys", type=int)
    parser.add_argument("--database", help="default davinci_scale (davinci_scale_ci with --ci)")
    parser.add_argument("--reload", action="store_true", help="drop and load even if loaded")
    parser.add_argument(
        "--load-only", action="store_true", help="load (or reuse), print sizes, stop"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="measured requests per page and account"
    )
    parser.add_argument(
        "--save-rounds", type=int, default=3, help="measured rounds of saves per account"
    )
    parser.add_argument(
        "--only", help="measure only the pages whose URL name starts with these (comma-separated)"
    )
    parser.add_argument("--port", type=int, default=8131)
    parser.add_argument("--redis-db", type=int, default=11)
    args = parser.parse_args(argv)
    size = CI_SIZE if args.ci else Size()
    for name in ("facilities", "events", "release_attempts", "keys"):
        if getattr(args, name) is not None:
            size = replace(size, **{name: getattr(args, name)})
    args.database = args.database or ("davinci_scale_ci" if args.ci else "davinci_scale")
    if args.only is not None and not selected(args.only):
        parser.error(f"--only {args.only!r} names no page")
    if not re.fullmatch(r"davinci_scale\w*", args.database):
        parser.error("the database's name must start with davinci_scale (the bench drops it)")
    return args, size


def main(argv: list[str] | None = None) -> None:
    args, size = parse(argv)
    started = time.monotonic()
    log(
        f"== The largest operator: {size.facilities:,} facilities, {size.units:,} units, "
        f"{size.locks:,} locks, {size.events:,} LockEvents, beside the demo account"
    )
    log(f"   {machine()}")
    workdir = Path(tempfile.mkdtemp(prefix="davinci-scale-"))
    try:
        env = bench_env(workdir, args.database, args.redis_db)
        prepare(args, size, env)
        print_sizes()
        if args.load_only:
            return
        large, demo = subjects()
        leftovers = scale_saves.clean_up()
        if any(leftovers):
            log("-- removed {:,} keys and {:,} members an interrupted run saved".format(*leftovers))
        from django.db import connections

        connections.close_all()
        server = production.Gunicorn("scale", args.port, env, log=workdir / "gunicorn.log")
        with server:
            clients = Clients(args.port, large, demo)
            for subject in (large, demo):
                subject.unit_list_next = _next_path(clients, subject)
                subject.feed_week_ago = _week_ago_cursor()
            log(
                f"-- gunicorn (production settings + bench/server_timing.py) on port {args.port}; "
                f"median of {args.repeat}, both accounts in turn"
            )
            log(HEADER)
            log("|" + "---|" * 10)
            rows = measure(clients, large, demo, args.repeat, selected(args.only))
            saves = [] if args.only else _saves(args, size, large, demo)
            worker_boots = server.log_text().count("Booting worker")
            timeouts = server.log_text().count("WORKER TIMEOUT")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    over = [(row.page.label, row.breaches) for row in rows if row.breaches]
    over += [(save.label, save.breaches) for save in saves if save.breaches]
    log(
        f"\n== {len(rows)} pages and endpoints and {len(saves)} saves in "
        f"{time.monotonic() - started:.0f} s; gunicorn booted {worker_boots} workers "
        f"(2 at start), {timeouts} killed after 30 s"
    )
    if over:
        log(f"== {len(over)} over budget:")
        for label, breaches in over:
            log(f"   - {label}: {'; '.join(breaches)}")
        sys.exit(1)
    log("== every page, endpoint and save within budget")


def _saves(args: argparse.Namespace, size: Size, large: Subject, demo: Subject) -> list:
    log(
        f"\n-- saves: a key and a member with {scale_saves.chosen_count(size.facilities):,}"
        f" of {size.facilities:,} facilities (the demo: its facilities, two thirds), "
        f"median of {args.save_rounds} after a warm-up round, both accounts in turn"
    )
    saves, confirmation = scale_saves.measure(
        args.port, {"large": large, "demo": demo}, args.save_rounds
    )
    log(scale_saves.HEADER)
    log("|" + "---|" * 7)
    for save in saves:
        log(scale_saves.line(save))
    log(f"   {confirmation or 'no confirm page was asked'}")
    return saves


def _week_ago_cursor() -> str:
    from django.utils import timezone

    from integrations.api.views import encode_cursor

    return encode_cursor([(timezone.now() - timedelta(days=7)).isoformat(), 0])


def _next_path(clients: Clients, subject: Subject) -> str:
    """The path of the units list's second page, 20 units a page (the demo's facility has
    48 units), as the first page's `next` link gives it."""
    account = "large" if subject is clients.subjects["large"] else "demo"
    first = _url("api:unit_list", {"limit": 20}, facility_id=subject.facility_id)
    answer = clients.get(account, "api").get(
        first, headers={"X-API-Key": subject.api_key, "X-API-Secret": subject.api_secret}
    )
    link = answer.json().get("next") if answer.status == 200 else None
    if not link:
        raise SystemExit(f"{subject.account}: the units list has no next page ({answer.status})")
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


if __name__ == "__main__":
    main()
