"""The largest operator, loaded into a PostgreSQL database for bench/scale.py.

`load(Size(...))` writes one account the size the portal is designed for (3,000 facilities,
300,000 units, 330,000 locks, 60 members, 20 API keys of 500-2,000 chosen facilities, a year
of LockEvents, 50,000 release attempts, AuditEvents, and a webhook endpoint whose delivery log
holds 200,000 deliveries, and a year of FMS events with the automation runs they caused),
beside whatever the database already
holds (the demo accounts of `seed_demo`). The rows are the product's own: facilities get
their Facility ID from `generate_facility_id`, every unlock code is encrypted with
`davinci.crypto`, key secrets are digested and encrypted by `ApiKey.set_secret`, passwords
hashed by Django. Small tables go through the ORM; units, locks, events and attempts go
through COPY (psycopg 3), with the big tables' secondary indexes and foreign keys dropped
for the copy and created again (and so validated) afterwards, in one transaction.

Every figure is derived from `Size`; the generator is seeded, so two loads at one size hold
the same shapes (Facility IDs, secrets and ciphertexts are random, as in the product).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

LARGE_SLUG = "largest-storage"
LARGE_NAME = "Largest Storage Co"
LARGE_OWNER = "owner@largest-storage.example.com"
# The bench database's own sign-in; the database never leaves loopback.
LARGE_PASSWORD = "bench-scale-password"  # noqa: S105
# A member with chosen facilities and the role of the demo's downtown@example.com (Client
# Call Center, one facility), so the two are measured like for like.
LARGE_CHOSEN_MEMBER = "callcenter-chosen@largest-storage.example.com"

# Lock statuses as a large chain holds them, per 330 locks (100 units): most locks secure
# vacant units or are in stock; a tenth are overlocks or released overlocks; every facility
# has its drop box lock; a few are out of use. All 13 statuses occur.
STATUS_SHARES = {
    "assigned_vacant": 120,
    "tenant_using_lock": 60,
    "assigned_overlock": 30,
    "returned_to_dropbox": 12,
    "assigned_auction": 3,
    "assigned_other": 3,
    "assigned_vendor": 2,
    "available": 80,
    "on_dropbox": 3,
    "damaged": 6,
    "lost": 6,
    "sold": 3,
    "unscannable": 2,
}
# The mix of a year of history: lookups by call centers dominate (docs/scaling.md: 4M of 5M).
EVENT_SHARES = {
    "code_looked_up": 820,
    "code_revealed": 70,
    "status_changed": 50,
    "assigned": 20,
    "unassigned": 10,
    "released": 10,
    "code_sent": 10,
    "code_set": 5,
    "imported": 5,
}
RELEASE_OUTCOMES = {
    "sent": 55,
    "contact_mismatch": 15,
    "unknown_unit": 10,
    "not_released": 8,
    "rate_limited": 5,
    "delivery_failed": 3,
    "send_limited": 2,
    "facility_excluded": 1,
    "honeypot": 1,
}
CITIES = [
    ("Portland", "OR"),
    ("Austin", "TX"),
    ("Denver", "CO"),
    ("Phoenix", "AZ"),
    ("Columbus", "OH"),
    ("Raleigh", "NC"),
    ("Tampa", "FL"),
    ("Omaha", "NE"),
    ("Boise", "ID"),
    ("Reno", "NV"),
    ("Tulsa", "OK"),
    ("Madison", "WI"),
    ("Albany", "NY"),
    ("Mesa", "AZ"),
    ("Fresno", "CA"),
    ("Wichita", "KS"),
    ("Dayton", "OH"),
    ("Akron", "OH"),
    ("Provo", "UT"),
    ("Salem", "OR"),
    ("Eugene", "OR"),
    ("Tacoma", "WA"),
    ("Spokane", "WA"),
    ("Plano", "TX"),
    ("Laredo", "TX"),
    ("Durham", "NC"),
    ("Savannah", "GA"),
    ("Macon", "GA"),
    ("Mobile", "AL"),
    ("Jackson", "MS"),
    ("Lansing", "MI"),
    ("Flint", "MI"),
]
STREETS = ["Main St", "Industrial Pkwy", "Commerce Dr", "Route 9", "Airport Rd", "Oak Ave"]
FIRST = ["Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Jordan", "Kai"]
LAST = ["Johnson", "Carter", "Morgan", "Price", "Brooks", "Hayes", "Sullivan", "Quinn", "Reyes"]
TENANT_STATUSES = {"assigned_overlock", "tenant_using_lock", "returned_to_dropbox"}
SERIAL_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BULK_TABLES = (
    "facilities_unit",
    "facilities_lock",
    "facilities_lockevent",
    "webhooks_event",
    "webhooks_delivery",
    "webhooks_attempt",
    "automations_fmsevent",
    "automations_automationrun",
)
# Part of the database's label: raise it when the loader writes something new (a kept
# counter, a new table), so databases loaded by an older loader are loaded again.
LOADER_VERSION = 3  # 2: the webhook delivery log; 3: FMS events and automation runs


@dataclass(frozen=True)
class Size:
    """What to load. The defaults are the largest operator; everything else follows from
    facilities (100 units and 110 locks each) unless given."""

    facilities: int = 3_000
    events: int = 5_000_000
    members: int = 60
    keys: int = 20
    release_attempts: int = 50_000
    audit_events: int = 20_000
    # One endpoint's delivery log over its retention period (WEBHOOKS_LOG_RETENTION_DAYS):
    # a status-change subscription of the facility the chosen member works at.
    webhook_deliveries: int = 200_000
    # A year of the FMS feed: a payment, move-in or move-out per facility every few days,
    # each leaving one automation run per rule it met (about 1.3 per event).
    fms_events: int = 300_000
    units_per_facility: int = 100
    locks_per_facility: int = 110
    days: int = 365

    @property
    def units(self) -> int:
        return self.facilities * self.units_per_facility

    @property
    def locks(self) -> int:
        return self.facilities * self.locks_per_facility

    def marker(self) -> str:
        """What the database is labelled with once it holds this size."""
        return json.dumps({"bench.scale": asdict(self), "loader": LOADER_VERSION}, sort_keys=True)

    def chosen_counts(self) -> list[int]:
        """How many facilities each key chooses: 500 to 2,000 at full size, spread evenly
        (never more than the account has)."""
        low, high = min(500, self.facilities), min(2_000, self.facilities)
        if self.keys == 1:
            return [high]
        return [low + (high - low) * n // (self.keys - 1) for n in range(self.keys)][::-1]


CI_SIZE = Size(
    facilities=300,
    events=200_000,
    release_attempts=5_000,
    audit_events=2_000,
    webhook_deliveries=20_000,
    fms_events=30_000,
)


def log(message: str) -> None:
    print(message, flush=True)


def weighted(rng: random.Random, shares: dict[str, int], count: int) -> list[str]:
    """`count` values in the proportions of `shares`, shuffled."""
    names, weights = list(shares), list(shares.values())
    return rng.choices(names, weights=weights, k=count)


def serial_for(index: int) -> str:
    """An 8-character serial, "S" + 7 base-36 digits of a permutation of `index`: unique,
    spread over the alphabet as engraved serials are, and apart from the demo's serials."""
    number = (index * 1_000_003 + 12_345) % 36**7  # 1,000,003 is coprime with 36
    digits = []
    for _ in range(7):
        number, remainder = divmod(number, 36)
        digits.append(SERIAL_ALPHABET[remainder])
    return "S" + "".join(reversed(digits))


def unit_numbers(facility_index: int, count: int) -> list[str]:
    """Unit numbers as facilities paint them: buildings and floors ("B214") at most, plain
    numbers ("1042") at every fourth facility."""
    if facility_index % 4 == 3:
        return [str(1001 + n) for n in range(count)]
    return [f"{'ABCDEFGH'[n // 100 % 8]}{100 + n % 100 + 100 * (n // 800)}" for n in range(count)]


# How an endpoint's deliveries went, per 1,000: most at the first request, some after a
# failed one or two (an error page, a timeout), a few given up after a day of retries.
WEBHOOK_OUTCOMES = {"first": 900, "second": 70, "third": 25, "given_up": 5}
WEBHOOK_RETRIES = [30, 120, 600, 1_800, 3_600, 7_200, 14_400, 21_600, 21_600]  # seconds
WEBHOOK_LOG_DAYS = 30
WEBHOOK_OK = '{"received": true}'
WEBHOOK_ERROR_PAGE = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 300


# --- COPY ----------------------------------------------------------------------------------


def copy_rows(model, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY `rows` (values for `columns`) into `model`'s table. A column the product adds
    later is filled with its field's default, so the loader survives new nullable or
    defaulted fields without an edit."""
    from django.db import connection
    from django.utils import timezone

    extra_columns, extra_values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in columns:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = timezone.now()
        elif field.has_default():
            value = field.get_db_prep_save(field.get_default(), connection)
        elif field.null:
            value = None
        else:
            raise RuntimeError(f"{model.__name__}.{field.name}: teach bench/scale_data.py a value")
        extra_columns.append(field.column)
        extra_values.append(value)
    names = ", ".join(f'"{name}"' for name in [*columns, *extra_columns])
    extra = tuple(extra_values)
    written = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f'COPY "{model._meta.db_table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row((*row, *extra) if extra else row)
                written += 1
    return written


class BulkMode:
    """Drop the secondary indexes and foreign keys of `tables` (those that back no unique or
    primary key constraint), and create them again on exit: one index build and one join per
    foreign key instead of a B-tree insert and a lookup per row. Re-creating a foreign key
    validates every row, so nothing inconsistent can be loaded this way."""

    def __init__(self, tables: Sequence[str]):
        self.tables = list(tables)
        self.indexes: list[str] = []
        self.foreign_keys: list[tuple[str, str, str]] = []

    def __enter__(self) -> BulkMode:
        from django.db import connection

        with connection.cursor() as cursor:
            # Django's foreign keys are deferred: check the rows written so far now, or
            # PostgreSQL refuses to alter a table with checks pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i"
                " WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
                "   WHERE c.conname = i.indexname AND c.contype IN ('p', 'u'))",
                [self.tables],
            )
            indexes = cursor.fetchall()
            cursor.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
                " FROM pg_constraint c WHERE c.contype = 'f'"
                " AND c.conrelid::regclass::text = ANY(%s)",
                [self.tables],
            )
            self.foreign_keys = cursor.fetchall()
            for table, name, _ in self.foreign_keys:
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for name, definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
                self.indexes.append(definition)
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        if exc_type is not None:
            return  # the transaction rolls back, the drops with it
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for definition in self.indexes:
                cursor.execute(definition)
            for table, name, definition in self.foreign_keys:
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


# --- The load ------------------------------------------------------------------------------


@dataclass
class Loaded:
    """What was written, for the summary and the tests."""

    account_id: int
    seconds: dict[str, float]

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


class _Stopwatch:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def step(self, name: str, work: Callable[[], str]) -> None:
        started = time.monotonic()
        summary = work()
        self.seconds[name] = time.monotonic() - started
        log(f"   {name:<22} {summary:<52} {self.seconds[name]:7.1f} s")


def load(size: Size, *, seed: int = 21) -> Loaded:
    """Write the largest operator at `size` into the configured (PostgreSQL) database, in
    one transaction. The account must not exist yet."""
    from django.db import connection, transaction

    from davinci.accounts.models import Account

    if connection.vendor != "postgresql":
        raise RuntimeError("the scale bench loads PostgreSQL only (COPY)")
    if Account.objects.filter(slug=LARGE_SLUG).exists():
        raise RuntimeError(f"the account {LARGE_SLUG} is already loaded: drop the database first")
    loader = _Loader(size, random.Random(seed))
    watch = _Stopwatch()
    with transaction.atomic():
        with connection.cursor() as cursor:
            # The bench's server settings bound every statement; a load's COPY runs longer.
            cursor.execute("SET LOCAL statement_timeout = 0")
        watch.step("account and members", loader.account_and_members)
        watch.step("facilities", loader.facilities)
        with BulkMode(BULK_TABLES):
            watch.step("units", loader.units)
            watch.step("locks", loader.locks)
            watch.step("API keys", loader.keys)
            watch.step("lock events", loader.lock_events)
            watch.step("release attempts", loader.release_attempts)
            watch.step("audit events", loader.audit_events)
            watch.step("webhook delivery log", loader.webhook_log)
            watch.step("automations", loader.automations)
            started = time.monotonic()
        watch.seconds["indexes and keys"] = time.monotonic() - started
        log(
            f"   {'indexes and keys':<22} {'built and validated':<52} "
            f"{watch.seconds['indexes and keys']:7.1f} s"
        )
    return Loaded(account_id=loader.account.pk, seconds=watch.seconds)


def vacuum_analyze() -> float:
    """VACUUM ANALYZE (outside a transaction): fresh statistics and visibility maps, so the
    first measurement plans as a long-running database would."""
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return time.monotonic() - started


class _Loader:
    def __init__(self, size: Size, rng: random.Random):
        from django.utils import timezone

        self.size, self.rng = size, rng
        self.now = timezone.now().replace(microsecond=0)
        self.start = self.now - timedelta(days=size.days)
        # Filled as the load goes: pks of what later rows refer to.
        self.account = None
        self.users: list[int] = []
        self.facility_rows: list[tuple[int, str, bool]] = []  # (pk, facility_id, included)
        self.unit_rows: list[list[int]] = []  # per facility: unit pks by position
        self.locks_on_units: list[list[tuple[int, int, str]]] = []  # (lock, unit, status)
        self.lock_ids: list[int] = []
        self.key_ids: list[int] = []
        self.key_facilities: list[list[int]] = []  # facility indexes per key

    def _moment(self, fraction: float) -> datetime:
        return self.start + timedelta(seconds=fraction * self.size.days * 86_400)

    # --- account, members, facilities --------------------------------------------------------

    def account_and_members(self) -> str:
        from davinci.accounts.models import Account, Membership, Role, User

        self.account = Account.objects.create(name=LARGE_NAME, slug=LARGE_SLUG)
        owner = User.objects.create_user(
            email=LARGE_OWNER, password=LARGE_PASSWORD, name="Olive Largest"
        )
        # One hash for everyone: hashing 60 passwords would cost a minute and measure nothing.
        roles = [Role.CLIENT_ADMIN] * 8 + [Role.CLIENT_PERSONNEL] * 25
        roles += [Role.CLIENT_PERSONNEL_RESTRICTED] * 6 + [Role.CLIENT_CALL_CENTER] * 20
        users = [owner]
        for n in range(self.size.members - 1):
            email = LARGE_CHOSEN_MEMBER if n == 0 else f"member{n:02d}@largest-storage.example.com"
            users.append(User(email=email, name=f"Member {n:02d}", password=owner.password))
        User.objects.bulk_create(users[1:])
        self.users = [user.pk for user in users]
        memberships = [Membership(user=owner, account=self.account, role=Role.OWNER)]
        for n, user in enumerate(users[1:]):
            role = Role.CLIENT_CALL_CENTER if n == 0 else roles[n % len(roles)]
            # About half of the team works at chosen facilities only.
            memberships.append(
                Membership(user=user, account=self.account, role=role, all_facilities=n % 2 == 1)
            )
        Membership.objects.bulk_create(memberships)
        self.memberships = [(m.pk, m.all_facilities) for m in memberships]
        return f"{len(users)} members, 1 password hash"

    def facilities(self) -> str:
        from facilities.models import Facility

        facilities = []
        for n in range(self.size.facilities):
            city, state = CITIES[n % len(CITIES)]
            facilities.append(
                Facility(
                    account=self.account,
                    name=f"Largest {city} {n // len(CITIES) + 1:03d}",
                    address=f"{100 + n % 900} {STREETS[n % len(STREETS)]}, {city}, {state} "
                    f"{10_000 + n * 7 % 89_999:05d}",
                    # Now and then a facility is kept out of the API (5 %).
                    include_in_api=n % 20 != 7,
                )
            )
        Facility.objects.bulk_create(facilities, batch_size=1_000)
        self.facility_rows = [(f.pk, f.facility_id, f.include_in_api) for f in facilities]
        return f"{len(facilities):,} (Facility IDs from generate_facility_id)"

    def _chosen(self, count: int) -> list[int]:
        return sorted(self.rng.sample(range(len(self.facility_rows)), count))

    # --- units and locks ---------------------------------------------------------------------

    def _plan_locks(self) -> None:
        """Each facility's locks: a status each, and the position of the unit a lock on a
        door is on (None off the doors). Planned before the units, which carry their tenant
        when the lock on their door says a tenant is there."""
        from facilities.models import UNIT_STATUSES

        unit_statuses = {str(status) for status in UNIT_STATUSES}
        self.lock_plan: list[list[tuple[str, int | None]]] = []
        for _ in self.facility_rows:
            positions = list(range(self.size.units_per_facility))
            self.rng.shuffle(positions)
            plan = []
            for status in weighted(self.rng, STATUS_SHARES, self.size.locks_per_facility):
                if status in unit_statuses and not positions:
                    status = "available"  # every door already has a lock
                plan.append((status, positions.pop() if status in unit_statuses else None))
            self.lock_plan.append(plan)

    def _tenant(self, position: int, index: int) -> tuple[str, str, str]:
        first, last = FIRST[(index + position) % len(FIRST)], LAST[position % len(LAST)]
        return (
            f"{first} {last}",
            f"{first}.{last}.{index}.{position}@example.com".lower(),
            f"+1{201 + index % 700}555{position:04d}",
        )

    def units(self) -> str:
        from django.db import connection

        from facilities.models import Unit

        self._plan_locks()

        def rows() -> Iterator[tuple]:
            for index, (pk, _, _) in enumerate(self.facility_rows):
                created = self._moment(index / len(self.facility_rows) * 0.01)
                tenants = {
                    position
                    for status, position in self.lock_plan[index]
                    if status in TENANT_STATUSES
                }
                numbers = unit_numbers(index, self.size.units_per_facility)
                for position, number in enumerate(numbers):
                    tenant = self._tenant(position, index) if position in tenants else ("", "", "")
                    yield (pk, number, *tenant, created, created)

        written = copy_rows(
            Unit,
            [
                "facility_id",
                "unit_number",
                "tenant_name",
                "tenant_email",
                "tenant_phone",
                "created_at",
                "updated_at",
            ],
            rows(),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT u.facility_id, u.id FROM facilities_unit u"
                " JOIN facilities_facility f ON f.id = u.facility_id WHERE f.account_id = %s"
                " ORDER BY u.id",
                [self.account.pk],
            )
            by_facility: dict[int, list[int]] = {}
            for facility_id, unit_id in cursor.fetchall():
                by_facility.setdefault(facility_id, []).append(unit_id)
        # COPY keeps the order of the rows: a facility's units in the order of their positions.
        self.unit_rows = [by_facility[pk] for pk, _, _ in self.facility_rows]
        return f"{written:,}"

    def locks(self) -> str:
        from django.db import connection

        from davinci import crypto
        from facilities.models import Lock

        def rows() -> Iterator[tuple]:
            serial = 0
            for index, (facility_pk, _, _) in enumerate(self.facility_rows):
                created = self._moment(index / len(self.facility_rows) * 0.01)
                units = self.unit_rows[index]
                for status, position in self.lock_plan[index]:
                    serial += 1
                    code = f"{self.rng.randrange(10_000):04d}"
                    unit_id = units[position] if position is not None else None
                    yield (
                        self.account.pk,
                        facility_pk,
                        serial_for(serial),
                        crypto.encrypt(code),
                        status,
                        unit_id,
                        created,
                        created,
                    )

        written = copy_rows(
            Lock,
            [
                "account_id",
                "facility_id",
                "serial",
                "unlock_code_encrypted",
                "status",
                "unit_id",
                "created_at",
                "updated_at",
            ],
            rows(),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, facility_id, unit_id, status FROM facilities_lock"
                " WHERE account_id = %s ORDER BY id",
                [self.account.pk],
            )
            position = {pk: index for index, (pk, _, _) in enumerate(self.facility_rows)}
            self.locks_on_units = [[] for _ in self.facility_rows]
            for lock_id, facility_id, unit_id, status in cursor.fetchall():
                self.lock_ids.append(lock_id)
                if unit_id is not None:
                    self.locks_on_units[position[facility_id]].append((lock_id, unit_id, status))
        statuses = {status for plan in self.lock_plan for status, _ in plan}
        return f"{written:,}, each code encrypted, {len(statuses)} statuses"

    # --- API keys ----------------------------------------------------------------------------

    def keys(self) -> str:
        from davinci.accounts.models import Membership
        from facilities.models import Facility
        from integrations import secrets as api_secrets
        from integrations.models import ApiKey

        keys = []
        for n, count in enumerate(self.size.chosen_counts()):
            key = ApiKey(
                account=self.account,
                name=f"Call Center {n + 1:02d}",
                api_key=api_secrets.generate_api_key(),
                all_facilities=False,
                created_by_id=self.users[0],
                last_used_at=self.now,
            )
            key.set_secret(api_secrets.generate_api_secret())
            keys.append(key)
            self.key_facilities.append(self._chosen(count))
        ApiKey.objects.bulk_create(keys)
        self.key_ids = [key.pk for key in keys]
        pks = [pk for pk, _, _ in self.facility_rows]
        chosen = copy_rows(
            ApiKey.facilities.through,
            ["apikey_id", "facility_id"],
            (
                (key_id, pks[index])
                for key_id, indexes in zip(self.key_ids, self.key_facilities, strict=True)
                for index in indexes
            ),
        )
        member_rows = []
        for membership_id, all_facilities in self.memberships:
            if not all_facilities:
                count = self.rng.choice([1, 5, 20, 50, 200, 500, 1_000])
                count = min(count, len(pks))
                member_rows += [(membership_id, pks[i]) for i in self._chosen(count)]
        copy_rows(Membership.facilities.through, ["membership_id", "facility_id"], member_rows)
        # The member like the demo's downtown@example.com: one facility, in the API.
        chosen_member = Membership.objects.get(user__email=LARGE_CHOSEN_MEMBER)
        chosen_member.facilities.set([Facility.objects.get(pk=pks[0])])
        return f"{len(keys)} keys, {chosen:,} chosen facilities; {len(member_rows):,} for members"

    # --- webhooks ----------------------------------------------------------------------------

    def webhook_log(self) -> str:
        from facilities.models import Facility

        facility = Facility.objects.get(pk=self.facility_rows[0][0])  # the chosen member's
        deliveries, attempts = delivery_log_load(
            facility=facility,
            count=self.size.webhook_deliveries,
            rng=self.rng,
            now=self.now,
            created_by_id=self.users[0],
        )
        return f"1 endpoint: {deliveries:,} deliveries, {attempts:,} attempts"

    # --- automations -------------------------------------------------------------------------

    def automations(self) -> str:
        from davinci.accounts.models import Account

        account = Account.objects.get(pk=self.account.pk)
        facilities = [pk for pk, _, _ in self.facility_rows]
        # Three rules beside the two defaults, at chosen facilities (one third, half, 200),
        # the last turned off: the rule list names and counts them, the runs say why.
        rules = automation_rules_load(
            account=account,
            chosen=[
                facilities[: len(facilities) // 3],
                facilities[: max(1, len(facilities) // 2)],
                facilities[: min(200, len(facilities))],
            ],
        )
        events, runs = automation_log_load(
            account=account,
            count=self.size.fms_events,
            rng=self.rng,
            now=self.now,
            days=self.size.days,
            api_key_id=self.key_ids[0],
            uploaded_by_id=self.users[0],
        )
        return f"{len(rules)} rules, {events:,} FMS events, {runs:,} automation runs"

    # --- history -----------------------------------------------------------------------------

    def lock_events(self) -> str:
        from facilities.models import LockEvent

        total = self.size.events
        created = min(len(self.lock_ids), total)
        stream = total - created
        facility_ids = [facility_id for _, facility_id, _ in self.facility_rows]
        included_by_key = [
            [i for i in indexes if self.facility_rows[i][2] and self.locks_on_units[i]]
            for indexes in self.key_facilities
        ]
        keys = [
            (key, facilities)
            for key, facilities in zip(self.key_ids, included_by_key, strict=True)
            if facilities
        ]
        key_weights = [len(facilities) for _, facilities in keys]
        any_lock = [i for i, locks in enumerate(self.locks_on_units) if locks]
        kinds = list(EVENT_SHARES)
        kind_weights = list(EVENT_SHARES.values())
        rng = self.rng
        users = self.users
        ips = [f"203.0.113.{n}" for n in range(1, 40)]
        statuses = list(STATUS_SHARES)

        def rows() -> Iterator[tuple]:
            # Each lock's "Added to inventory", in the first days of the year ...
            for n, lock_id in enumerate(self.lock_ids[:created]):
                when = self._moment(n / max(created, 1) * 0.01)
                yield (
                    lock_id,
                    when,
                    "user",
                    users[0],
                    None,
                    "created",
                    "",
                    "available",
                    None,
                    None,
                    "{}",
                )
            # ... then the year, in time order, as the table is appended to.
            step = (self.size.days * 86_400 * 0.99) / max(stream, 1)
            base = self._moment(0.01)
            batch = 10_000
            for first in range(0, stream, batch):
                count = min(batch, stream - first)
                chosen_kinds = rng.choices(kinds, weights=kind_weights, k=count)
                chosen_keys = rng.choices(keys, weights=key_weights, k=count) if keys else []
                for offset, kind in enumerate(chosen_kinds):
                    when = base + timedelta(seconds=(first + offset + rng.random()) * step)
                    if kind == "code_looked_up" and keys:
                        key_id, facilities = chosen_keys[offset]
                        index = facilities[int(rng.random() * len(facilities))]
                        lock_id, unit_id, _ = rng.choice(self.locks_on_units[index])
                        lookup = "unit" if rng.random() < 0.8 else "lock"
                        details = (
                            f'{{"lookup": "{lookup}", "facility_id": "{facility_ids[index]}"}}'
                        )
                        yield (
                            lock_id,
                            when,
                            "api_key",
                            None,
                            key_id,
                            kind,
                            "",
                            "",
                            unit_id,
                            ips[offset % 8],
                            details,
                        )
                        continue
                    index = any_lock[int(rng.random() * len(any_lock))]
                    lock_id, unit_id, status = rng.choice(self.locks_on_units[index])
                    user = users[int(rng.random() * len(users))]
                    ip = ips[8 + offset % 31]
                    if kind == "released":
                        yield (
                            lock_id,
                            when,
                            "tenant_page",
                            None,
                            None,
                            kind,
                            "assigned_overlock",
                            "returned_to_dropbox",
                            unit_id,
                            ip,
                            '{"channel": "email"}',
                        )
                    elif kind == "status_changed":
                        yield (
                            lock_id,
                            when,
                            "user",
                            user,
                            None,
                            kind,
                            rng.choice(statuses),
                            status,
                            unit_id,
                            ip,
                            "{}",
                        )
                    elif kind == "code_sent":
                        yield (
                            lock_id,
                            when,
                            "user",
                            user,
                            None,
                            kind,
                            "",
                            "",
                            unit_id,
                            ip,
                            '{"notice": "paid", "notice_label": "Unlock and Delinquency'
                            ' Paid", "channel": "email"}',
                        )
                    else:
                        yield (lock_id, when, "user", user, None, kind, "", "", unit_id, ip, "{}")

        written = copy_rows(
            LockEvent,
            [
                "lock_id",
                "created_at",
                "actor_type",
                "actor_user_id",
                "api_key_id",
                "kind",
                "from_status",
                "to_status",
                "unit_id",
                "ip",
                "details",
            ],
            rows(),
        )
        share = EVENT_SHARES["code_looked_up"] / sum(EVENT_SHARES.values())
        return f"{written:,} over {self.size.days} days ({share:.0%} code lookups by API keys)"

    def release_attempts(self) -> str:
        from facilities.models import ReleaseAttempt

        count = self.size.release_attempts
        outcomes = weighted(self.rng, RELEASE_OUTCOMES, count)
        rng = self.rng
        any_lock = [i for i, locks in enumerate(self.locks_on_units) if locks]

        def rows() -> Iterator[tuple]:
            for n, outcome in enumerate(outcomes):
                index = any_lock[int(rng.random() * len(any_lock))]
                lock_id, unit_id, _ = rng.choice(self.locks_on_units[index])
                matched = outcome not in ("unknown_unit", "honeypot", "facility_excluded")
                by_sms = n % 3 == 0
                yield (
                    self.account.pk,
                    self._moment((n + rng.random()) / count),
                    self.facility_rows[index][0],
                    f"{'ABCDEFGH'[n % 8]}{100 + n % 100}",
                    "sms" if by_sms else "email",
                    f"+1603555{n % 10_000:04d}" if by_sms else f"tenant{n}@example.com",
                    unit_id if matched else None,
                    lock_id if matched else None,
                    f"198.51.100.{n % 250 + 1}",
                    outcome,
                )

        written = copy_rows(
            ReleaseAttempt,
            [
                "account_id",
                "created_at",
                "facility_id",
                "unit_number",
                "channel",
                "contact",
                "unit_id",
                "lock_id",
                "ip",
                "outcome",
            ],
            rows(),
        )
        return f"{written:,}"

    def audit_events(self) -> str:
        from davinci.accounts.models import AuditEvent

        actions = [
            "key_edited",
            "member_edited",
            "facility_excluded",
            "facility_included",
            "key_revealed",
            "member_added",
            "key_rolled",
            "two_factor_enabled",
        ]
        count = self.size.audit_events
        rng = self.rng

        def rows() -> Iterator[tuple]:
            for n in range(count):
                action = actions[int(rng.random() ** 2 * len(actions))]
                if action.startswith("key"):
                    target = ("api_key", str(self.key_ids[n % len(self.key_ids)]), f"Key {n}")
                elif action.startswith("facility"):
                    _, facility_id, _ = self.facility_rows[n % len(self.facility_rows)]
                    target = ("facility", facility_id, f"Facility ({facility_id})")
                else:
                    user = self.users[n % len(self.users)]
                    target = ("user", str(user), f"member{n % 60:02d}@largest-storage.example.com")
                yield (
                    self.account.pk,
                    self.users[n % min(9, len(self.users))],
                    action,
                    *target,
                    self._moment((n + rng.random()) / count),
                    f"192.0.2.{n % 200 + 1}",
                    '{"summary": "bench"}',
                )

        written = copy_rows(
            AuditEvent,
            [
                "account_id",
                "actor_id",
                "action",
                "target_type",
                "target_id",
                "target_repr",
                "created_at",
                "ip",
                "details",
            ],
            rows(),
        )
        return f"{written:,}"


def delivery_log_load(
    *, facility, count: int, rng: random.Random, now: datetime, created_by_id: int | None = None
) -> tuple[int, int]:
    """An endpoint of `facility`'s account on that facility, with a delivery log of `count`
    events over the last WEBHOOK_LOG_DAYS (COPY): each delivered or given up, its attempts
    numbered from 1. Nothing waits, so nothing is ever sent to it. Returns (deliveries,
    attempts) written."""

    from webhooks.models import Attempt, Delivery, Endpoint, Event, EventType
    from webhooks.secrets import generate_secret

    endpoint = Endpoint(
        account_id=facility.account_id,
        url="https://hooks.example.com/davinci-lock/bench",
        description="Bench: status changes and releases",
        event_types=[EventType.LOCK_STATUS_CHANGED, EventType.OVERLOCK_RELEASED],
        all_facilities=False,
        created_by_id=created_by_id,
    )
    endpoint.set_secret(generate_secret())
    endpoint.save()
    endpoint.facilities.set([facility])
    start = now - timedelta(days=WEBHOOK_LOG_DAYS)
    step = WEBHOOK_LOG_DAYS * 86_400 / max(count, 1)
    moments = [start + timedelta(seconds=(n + rng.random()) * step) for n in range(count)]
    outcomes = weighted(rng, WEBHOOK_OUTCOMES, count)
    statuses = list(STATUS_SHARES)

    def events() -> Iterator[tuple]:
        for n, when in enumerate(moments):
            released = n % 4 == 0
            before, after = (
                ("assigned_overlock", "returned_to_dropbox")
                if released
                else (
                    rng.choice(statuses),
                    rng.choice(statuses),
                )
            )
            data = {
                "lock_event_id": n + 1,
                "serial": serial_for(n + 1),
                "facility_id": facility.facility_id,
                "unit_number": f"{'ABCDEFGH'[n % 8]}{100 + n % 100}",
                "actor": "tenant_page" if released else "user",
                "occurred_at": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "from_status": {"value": before, "label": before},
                "to_status": {"value": after, "label": after},
            }
            kind = EventType.OVERLOCK_RELEASED if released else EventType.LOCK_STATUS_CHANGED
            message_id = f"msg_{rng.getrandbits(96):024x}"
            yield (facility.account_id, facility.pk, kind, message_id, json.dumps(data), when)

    first_event = _next_id(Event)
    copy_rows(
        Event, ["account_id", "facility_id", "type", "message_id", "data", "created_at"], events()
    )
    event_ids = _ids_since(Event, first_event)
    tries = {"first": 1, "second": 2, "third": 3, "given_up": len(WEBHOOK_RETRIES) + 1}

    def deliveries() -> Iterator[tuple]:
        for event_id, when, outcome in zip(event_ids, moments, outcomes, strict=True):
            given_up = outcome == "given_up"
            last = when + timedelta(seconds=sum(WEBHOOK_RETRIES[: tries[outcome] - 1]))
            yield (
                endpoint.pk,
                event_id,
                "failed" if given_up else "delivered",
                tries[outcome],
                when,
                when + timedelta(days=1),
                None if given_up else last,
            )

    first_delivery = _next_id(Delivery)
    written = copy_rows(
        Delivery,
        [
            "endpoint_id",
            "event_id",
            "status",
            "attempts",
            "created_at",
            "give_up_at",
            "delivered_at",
        ],
        deliveries(),
    )
    delivery_ids = _ids_since(Delivery, first_delivery)

    def attempts() -> Iterator[tuple]:
        for delivery_id, when, outcome in zip(delivery_ids, moments, outcomes, strict=True):
            for number in range(1, tries[outcome] + 1):
                started = when + timedelta(seconds=sum(WEBHOOK_RETRIES[: number - 1]))
                succeeded = number == tries[outcome] and outcome != "given_up"
                if succeeded:
                    answer = (200, "", WEBHOOK_OK, 40 + int(rng.random() * 400))
                elif number % 2:
                    answer = (502, "", WEBHOOK_ERROR_PAGE, 30 + int(rng.random() * 200))
                else:
                    answer = (None, "TimeoutError: timed out", "", 10_000)
                status, error, body, duration = answer
                yield (endpoint.pk, delivery_id, number, started, duration, status, error, body)

    tried = copy_rows(
        Attempt,
        [
            "endpoint_id",
            "delivery_id",
            "number",
            "started_at",
            "duration_ms",
            "status_code",
            "error",
            "response_body",
        ],
        attempts(),
    )
    return written, tried


# What an FMS feed sends, per 100 events, and the lock statuses its units are likely in: a
# payment comes from a tenant (Assigned Overlock when they were delinquent), a move-in to a
# vacant unit, a move-out from a tenant's. One event in ten is for any unit, with a lock or not.
FMS_EVENT_SHARES = {"payment_received": 60, "move_in": 22, "move_out": 18}
FMS_EVENT_UNITS = {
    "payment_received": {"assigned_overlock", "tenant_using_lock", "returned_to_dropbox"},
    "move_in": {"assigned_vacant"},
    "move_out": {"tenant_using_lock", "assigned_overlock"},
}
FMS_EVENT_LABELS = {
    "payment_received": "payment received",
    "move_in": "move-in",
    "move_out": "move-out",
}
FMS_CSV_SHARE = 0.2  # of events: uploaded as a CSV of payments, the rest through the API


def automation_rules_load(*, account, chosen: Sequence[Sequence[int]]) -> list:
    """Rules after the account's two defaults, one per list of facility pks in `chosen` (at
    most three): a payment on Assigned Other sets Tenant Using Lock; a move-out on Tenant
    Using Lock sets Assigned Vacant; a move-in on Assigned Other sends the new-rental notice,
    turned off. Returns all the account's rules, in order."""
    from automations.models import Rule

    shapes = [
        ("payment_received", ["assigned_other"], "tenant_using_lock", "", True),
        ("move_out", ["tenant_using_lock"], "assigned_vacant", "", True),
        ("move_in", ["assigned_other"], "", "new_rental", False),
    ]
    for position, (facility_pks, shape) in enumerate(zip(chosen, shapes, strict=False), start=3):
        trigger, statuses, set_status, notice, enabled = shape
        rule = Rule.objects.create(
            account=account,
            position=position,
            trigger=trigger,
            statuses=statuses,
            set_status=set_status,
            notice=notice,
            all_facilities=False,
            enabled=enabled,
        )
        Rule.facilities.through.objects.bulk_create(
            Rule.facilities.through(rule_id=rule.pk, facility_id=pk) for pk in facility_pks
        )
    return list(Rule.objects.filter(account=account).prefetch_related("facilities"))


def _automation_targets(account_id: int) -> list[tuple[int, str, list[tuple]]]:
    """The account's facilities (pk, name) with their units: (unit pk, unit number, lock
    pk or None, the lock's status or "")."""
    from django.db import connection

    facilities: dict[int, tuple[int, str, list[tuple]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT f.id, f.name, u.id, u.unit_number, l.id, coalesce(l.status, '')"
            " FROM facilities_facility f JOIN facilities_unit u ON u.facility_id = f.id"
            " LEFT JOIN facilities_lock l ON l.unit_id = u.id"
            " WHERE f.account_id = %s ORDER BY f.id, u.id",
            [account_id],
        )
        for facility_pk, name, *unit in cursor.fetchall():
            facilities.setdefault(facility_pk, (facility_pk, name, []))[2].append(tuple(unit))
    return list(facilities.values())


def _automation_run(rule, status: str, rng: random.Random) -> tuple[str, str, str, bool]:
    """(result, reason, to_status, notice sent) of `rule` on a lock in `status`, as the
    engine (automations/engine.py) decides; now and then a notice cannot be sent."""
    from facilities.models import LockStatus

    label = LockStatus(status).label
    if not rule.enabled:
        return "skipped", "The rule is turned off.", "", False
    if status == "assigned_auction":
        return "skipped", f"A rule never acts on a lock in {label}.", "", False
    if status not in rule.statuses:
        wanted = " or ".join(LockStatus(s).label for s in rule.statuses)
        return "skipped", f"The lock is {label}; the rule is for {wanted}.", "", False
    to_status = rule.set_status if rule.set_status != status else ""
    if rule.notice and rng.random() < 0.04:
        why = "The unit has no email address or phone number on file."
        if not to_status:
            return "failed", f"No notice sent: {why}", "", False
        return "acted", f"The status was set, but no notice was sent: {why}", to_status, False
    return "acted", "", to_status, bool(rule.notice)


def automation_log_load(
    *,
    account,
    count: int,
    rng: random.Random,
    now: datetime,
    days: int,
    api_key_id: int | None,
    uploaded_by_id: int,
    shares: dict[str, int] = FMS_EVENT_SHARES,
    unit_pks: set[int] | None = None,
) -> tuple[int, int]:
    """`count` FMS events of the account over the last `days` (COPY), in time order, and
    the runs each left under the account's rules, decided as the engine would from the
    lock's status: acted, skipped and why, failed, or nothing to do (no lock, no rule).
    Some facilities get many more events than others (a few big ones, a long tail), so a
    filter by facility finds a busy one. Events come through the key `api_key_id`, or as
    CSV uploads by `uploaded_by_id` (all of them without a key). `shares` and `unit_pks`
    narrow them to some event types and units. Returns (events, runs)."""
    from automations.models import AutomationRun, FmsEvent, Rule

    facilities = _automation_targets(account.pk)
    if unit_pks is not None:
        facilities = [
            (pk, name, [unit for unit in units if unit[0] in unit_pks])
            for pk, name, units in facilities
        ]
        facilities = [facility for facility in facilities if facility[2]]
    rules = list(Rule.objects.filter(account=account).prefetch_related("facilities"))
    everywhere = [rule for rule in rules if rule.all_facilities]
    at = {}
    for rule in rules:
        for facility in rule.facilities.all():
            at.setdefault(facility.pk, []).append(rule)

    def rules_at(facility_pk: int, trigger: str) -> list:
        applying = [*everywhere, *at.get(facility_pk, [])]
        return sorted(
            (r for r in applying if r.trigger == trigger), key=lambda r: (r.position, r.pk)
        )

    by_status = [
        {
            kind: [unit for unit in units if unit[3] in statuses] or units
            for kind, statuses in FMS_EVENT_UNITS.items()
        }
        for _, _, units in facilities
    ]
    kinds = weighted(rng, shares, count)
    start = now - timedelta(days=days)
    step = days * 86_400 / max(count, 1)
    plan = []  # per event: (facility index, unit, kind, when, source)
    for n, kind in enumerate(kinds):
        index = int(rng.random() ** 2 * len(facilities))  # the first facilities the busiest
        units = facilities[index][2] if rng.random() < 0.1 else by_status[index][kind]
        unit = units[int(rng.random() * len(units))]
        when = start + timedelta(seconds=(n + rng.random()) * step)
        csv = kind == "payment_received" and (api_key_id is None or rng.random() < FMS_CSV_SHARE)
        plan.append((index, unit, kind, when, "csv" if csv else "api"))

    def events() -> Iterator[tuple]:
        for n, (index, unit, kind, when, source) in enumerate(plan):
            facility_pk = facilities[index][0]
            api = source == "api"
            yield (
                account.pk,
                facility_pk,
                unit[0],
                kind,
                when,
                f"FMS-{n + 1:08d}" if api else f"payments-{when:%Y-%m-%d}.csv row {n % 90 + 2}",
                source,
                api_key_id if api else None,
                None if api else uploaded_by_id,
                False,
                when + timedelta(seconds=1 + rng.random() * 5),
            )

    first_event = _next_id(FmsEvent)
    written = copy_rows(
        FmsEvent,
        [
            "account_id",
            "facility_id",
            "unit_id",
            "type",
            "occurred_at",
            "reference",
            "source",
            "api_key_id",
            "uploaded_by_id",
            "contact_updated",
            "received_at",
        ],
        events(),
    )
    event_ids = _ids_since(FmsEvent, first_event)

    def runs() -> Iterator[tuple]:
        for event_id, (index, unit, kind, when, _) in zip(event_ids, plan, strict=True):
            facility_pk, name, _ = facilities[index]
            unit_pk, number, lock_pk, status = unit
            head = (account.pk, event_id)
            place = (facility_pk, unit_pk, number)
            ran = when + timedelta(seconds=6)
            applying = rules_at(facility_pk, kind) if lock_pk is not None else []
            if lock_pk is None:
                nothing = ("nothing", f"Unit {number} has no lock.", None, "")
                yield (*head, None, *place, *nothing, "", "", False, ran)
            elif not applying:
                why = f"No rule for {FMS_EVENT_LABELS[kind]} at {name}."
                yield (*head, None, *place, "nothing", why, lock_pk, status, "", "", False, ran)
            for rule in applying:
                result, reason, to_status, sent = _automation_run(rule, status, rng)
                notice = rule.notice if result == "acted" else ""
                outcome = (result, reason, lock_pk, status, to_status, notice, sent)
                yield (*head, rule.pk, *place, *outcome, ran)
                status = to_status or status

    ran = copy_rows(
        AutomationRun,
        [
            "account_id",
            "event_id",
            "rule_id",
            "facility_id",
            "unit_id",
            "unit_number",
            "result",
            "reason",
            "lock_id",
            "from_status",
            "to_status",
            "notice",
            "notice_sent",
            "created_at",
        ],
        runs(),
    )
    return written, ran


def _next_id(model) -> int:
    """The first id the rows COPY writes next will get (nothing else writes meanwhile)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{model._meta.db_table}"')  # noqa: S608
        return cursor.fetchone()[0]


def _ids_since(model, first: int) -> list[int]:
    """The ids of the rows just written, in the order COPY wrote them."""
    return list(model.objects.filter(pk__gte=first).order_by("pk").values_list("pk", flat=True))
