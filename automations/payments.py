"""A CSV file of payments, for operators whose facility software does not call the API: each
row is one payment_received event for a unit, run through the same engine as the API's.

`plan_payments()` reads the file with the facilities import's reader (facilities.imports) and
the database (a few queries whatever the number of rows), and says, row by row, what is wrong
or what the rules would do to the unit's lock as things are now; it writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from automations.models import EventType, Rule
from davinci.accounts import permissions
from davinci.accounts.models import Membership
from facilities import imports
from facilities.imports import RowError
from facilities.models import Facility, Lock, Unit

MAX_ROWS = 1_000
COLUMNS = ["facility_id", "unit_number", "paid_at", "reference"]
PAYMENT_COLUMNS = imports.Columns(
    names=COLUMNS,
    aliases={
        "facility": "facility_id",
        "unit": "unit_number",
        "unit_no": "unit_number",
        "unit_#": "unit_number",
        "date": "paid_at",
        "paid_on": "paid_at",
        "payment_date": "paid_at",
        "occurred_at": "paid_at",
        "receipt": "reference",
        "receipt_number": "reference",
        "ref": "reference",
        "transaction_id": "reference",
    },
    needs=frozenset({"unit_number"}),
    needs_message="The file needs a facility_id and a unit_number column.",
)
# How a payment's date and time may be written: ISO 8601, or as US spreadsheets write it.
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S")


@dataclass
class PaymentRow:
    line: int
    unit: Unit
    paid_at: dt.datetime
    reference: str
    outcome: str = ""  # what the rules would do now, in words


@dataclass
class PaymentPlan:
    filename: str
    rows: list[PaymentRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.rows)


def parse_paid_at(text: str, zone: dt.tzinfo) -> dt.datetime | None:
    """A payment's time, in the account's time zone unless it says its own; None when it
    cannot be read."""
    text = " ".join(text.replace("T", " ").split())
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = None
    for formats in (DATETIME_FORMATS, DATE_FORMATS):
        for each in formats if moment is None else ():
            try:
                moment = dt.datetime.strptime(text, each)
            except ValueError:
                continue
    if moment is None:
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, zone)


def _records(text: str, plan: PaymentPlan) -> list[tuple[int, dict[str, str]]]:
    records = []
    for line, record in imports.read_records(text, plan.errors, PAYMENT_COLUMNS):
        if len(records) == MAX_ROWS:
            plan.errors.append(
                RowError(line, f"At most {MAX_ROWS:,} payments a file: split it in two.")
            )
            break
        records.append((line, record))
    if not records and not plan.errors:
        plan.errors.append(RowError(1, "The file has no payments."))
    return records


def _would_do(rules: list[Rule], chosen: dict[int, set[int]], unit: Unit) -> str:
    lock: Lock | None = getattr(unit, "lock", None)
    if lock is None:
        return "Nothing: the unit has no lock."
    for rule in rules:
        here = rule.all_facilities or unit.facility_id in chosen.get(rule.pk, set())
        if here and permissions.automation_can_act(lock.status) and lock.status in rule.statuses:
            return f"{rule.action_label} (lock {lock.serial})."
    return f"Nothing: the lock is {lock.get_status_display()}."


def plan_payments(*, membership: Membership, text: str, filename: str) -> PaymentPlan:
    """Every row checked against the member's facilities and units; nothing written."""
    plan = PaymentPlan(filename=filename)
    records = _records(text, plan)
    zone, now = membership.account.zoneinfo, timezone.now()
    ids = {record.get("facility_id", "").strip().lower() for _, record in records}
    facilities = {
        f.facility_id: f
        for f in Facility.objects.for_membership(membership).filter(facility_id__in=ids)
    }
    numbers = {record.get("unit_number", "") for _, record in records}
    units = {
        (u.facility_id, u.unit_number): u
        for u in Unit.objects.filter(
            facility__in=list(facilities.values()), unit_number__in=numbers
        ).select_related("lock", "facility")
    }
    for line, record in records:
        facility_id = record.get("facility_id", "").strip().lower()
        number = record.get("unit_number", "")
        facility = facilities.get(facility_id)
        unit = units.get((facility.pk, number)) if facility else None
        paid_at = parse_paid_at(record.get("paid_at", ""), zone)
        reference = record.get("reference", "")
        if not facility_id:
            plan.errors.append(
                RowError(line, "facility_id: add the Facility ID (Integrations → Facilities).")
            )
        elif facility is None:
            plan.errors.append(RowError(line, f"No facility of yours has the ID “{facility_id}”."))
        elif unit is None:
            plan.errors.append(RowError(line, f"{facility} has no unit “{number}”."))
        if paid_at is None:
            plan.errors.append(
                RowError(line, "paid_at: write the date as 2026-03-02 or 03/02/2026.")
            )
        elif paid_at > now + dt.timedelta(days=1):
            plan.errors.append(RowError(line, "paid_at: the payment is in the future."))
        if len(reference) > 200:
            plan.errors.append(RowError(line, "reference: at most 200 characters."))
        if unit is not None and paid_at is not None:
            plan.rows.append(PaymentRow(line, unit, paid_at, reference[:200]))
    rules = list(
        Rule.objects.for_account(membership.account).filter(
            trigger=EventType.PAYMENT_RECEIVED, enabled=True
        )
    )
    through = Rule.facilities.through.objects.filter(rule__in=[r.pk for r in rules])
    chosen: dict[int, set[int]] = {}
    for rule_id, facility_pk in through.values_list("rule_id", "facility_id"):
        chosen.setdefault(rule_id, set()).add(facility_pk)
    for row in plan.rows:
        row.outcome = _would_do(rules, chosen, row.unit)
    return plan
