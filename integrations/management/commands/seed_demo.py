"""Demo data for trying the portal out: `manage.py seed_demo`. Safe to run again.

It lives in integrations, the top of davinci <- facilities <- integrations, because it seeds
all three: accounts and users, facilities, units and locks, and the demo API key."""

import secrets
from base64 import b32decode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from davinci import crypto
from davinci.accounts.models import Account, Membership, Role, User
from davinci.accounts.permissions import KeyPermission, key_permissions_clean
from facilities.models import UNIT_STATUSES, Facility, Lock, LockEvent, LockStatus, Unit
from integrations import secrets as api_secrets
from integrations.models import ApiKey

DEMO_PASSWORD = "davinci-demo"  # noqa: S105 - published demo credentials, refused without DEBUG
# The authenticator-app key of the demo users with two-factor (totp@example.com and the staff
# user, whom the Django admin asks for it): published in README.md, which also shows how to
# print a code with django_otp.oath.
DEMO_TOTP_KEY = "DAVINCIDEMOTOTPKEYFORMAKERUN2345"
DEMO_TOTP_USERS = ("totp@example.com", "staff@example.com")

ACCOUNTS = [
    {
        "name": "Harbor Self Storage",
        "slug": "harbor-self-storage",
        # (email, name, role, the facilities of a member without All Facilities)
        "members": [
            ("owner@example.com", "Olivia Owner", Role.OWNER, None),
            ("admin@example.com", "Adam Admin", Role.CLIENT_ADMIN, None),
            ("manager@example.com", "Maria Manager", Role.CLIENT_PERSONNEL, None),
            ("restricted@example.com", "Remy Restricted", Role.CLIENT_PERSONNEL_RESTRICTED, None),
            ("callcenter@example.com", "Cal Center", Role.CLIENT_CALL_CENTER, None),
            ("totp@example.com", "Tess Twofactor", Role.CLIENT_PERSONNEL, None),
            (
                "downtown@example.com",
                "Dana Downtown",
                Role.CLIENT_CALL_CENTER,
                ["Harbor Downtown"],
            ),
        ],
        "facilities": [
            ("Harbor Downtown", "100 Harbor Way, Portsmouth, NH 03801", "HD", True),
            ("Harbor Eastside", "2200 East Bay Rd, Portsmouth, NH 03801", "HE", True),
            ("Harbor Airport", "7 Runway Dr, Portsmouth, NH 03803", "HA", False),
        ],
    },
    {
        "name": "Rival Storage",
        "slug": "rival-storage",
        "members": [("rival@example.com", "Rita Rival", Role.OWNER, None)],
        "facilities": [
            ("Rival North", "1 North St, Dover, NH 03820", "RN", True),
            ("Rival South", "99 South St, Dover, NH 03820", "RS", True),
        ],
    },
]
UNITS_PER_FACILITY = 48
TENANTS = [
    "Avery Johnson",
    "Blake Carter",
    "Casey Morgan",
    "Devon Price",
    "Emery Brooks",
    "Finley Hayes",
    "Gray Sullivan",
    "Harper Quinn",
    "Jordan Reyes",
    "Kendall Ward",
]
# Locks on doors: six per unit status. Locks off doors: two per other status.
OFF_UNIT_STATUSES = [status for status in LockStatus if status not in UNIT_STATUSES]
RELEASED = LockStatus.RETURNED_TO_DROPBOX
CREATED = LockEvent.Kind.CREATED
# A released overlock's history: in stock, on the delinquent tenant's door, then released
# when the tenant paid (the lock stays on the unit until staff set it Available).
RELEASE_HISTORY = [
    (CREATED, "", LockStatus.AVAILABLE),
    (LockEvent.Kind.ASSIGNED, LockStatus.AVAILABLE, LockStatus.ASSIGNED_OVERLOCK),
    (LockEvent.Kind.RELEASED, LockStatus.ASSIGNED_OVERLOCK, RELEASED),
]


# `make run` passes the address it really serves on.
DEMO_BASE_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "Create the demo accounts, users, facilities, units and locks (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo passwords are public: never in production).",
        )
        parser.add_argument(
            "--fms-events",
            action="store_true",
            help="Also give the demo API key the fms_events permission (Send FMS events), for "
            "the Automations walk-through in docs/automations.md.",
        )
        parser.add_argument(
            "--base-url",
            default=DEMO_BASE_URL,
            help=f"Where the portal serves, for the printed curl line (default {DEMO_BASE_URL}).",
        )

    def handle(
        self,
        *args,
        force: bool,
        base_url: str = DEMO_BASE_URL,
        fms_events: bool = False,
        **options,
    ) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with a published password; it only runs with DEBUG on. "
                "Use --force to run it anyway (never on a production database)."
            )
        with transaction.atomic():
            for spec in ACCOUNTS:
                self._seed_account(spec)
            self._seed_user("staff@example.com", "Sam Staff", staff=True)
            for email in DEMO_TOTP_USERS:
                self._seed_totp(User.objects.get(email=email))
        self._print_sign_in()
        seed_demo_api_key(self.stdout, base_url=base_url, fms_events=fms_events)

    def _seed_user(self, email: str, name: str, *, staff: bool = False) -> User:
        user, created = User.objects.get_or_create(
            email=email, defaults={"name": name, "is_staff": staff, "is_superuser": staff}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _seed_totp(self, user: User) -> None:
        """The published demo key as the user's confirmed authenticator app (no recovery
        codes: the key itself is public)."""
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(
                user=user,
                name="Authenticator app",
                confirmed=True,
                key=b32decode(DEMO_TOTP_KEY).hex(),
            )

    def _seed_account(self, spec: dict) -> None:
        account, _ = Account.objects.get_or_create(
            slug=spec["slug"], defaults={"name": spec["name"]}
        )
        for name, address, prefix, included in spec["facilities"]:
            facility, _ = Facility.objects.get_or_create(
                account=account,
                name=name,
                defaults={"address": address, "include_in_api": included},
            )
            self._seed_units_and_locks(facility, prefix)
        for email, name, role, facility_names in spec["members"]:
            user = self._seed_user(email, name)
            membership, created = Membership.objects.get_or_create(
                user=user,
                account=account,
                defaults={"role": role, "all_facilities": facility_names is None},
            )
            if created and facility_names:
                membership.facilities.set(account.facilities.filter(name__in=facility_names))

    def _seed_units_and_locks(self, facility: Facility, prefix: str) -> None:
        units = []
        for number in range(1, UNITS_PER_FACILITY + 1):
            # One zero-padded number, as some facilities paint them: keep it as text.
            unit_number = "007" if number == 7 else f"{'AB'[number % 2]}{100 + number}"
            tenant = TENANTS[number % len(TENANTS)]
            unit, _ = Unit.objects.get_or_create(
                facility=facility,
                unit_number=unit_number,
                defaults={
                    "tenant_name": tenant,
                    "tenant_email": f"{tenant.split()[0].lower()}.{prefix.lower()}{number}"
                    "@example.com",
                    "tenant_phone": f"+1603555{1000 + number:04d}",
                },
            )
            units.append(unit)

        plan: list[tuple[LockStatus, Unit | None]] = []
        unit_iter = iter(units)
        # Released overlocks come last, so unit B137 (the README's walk-through) is the first
        # unit whose overlock was released: its lock is Returned to Dropbox, still on the door.
        for status in [*sorted(UNIT_STATUSES - {LockStatus.RETURNED_TO_DROPBOX}), RELEASED]:
            plan += [(LockStatus(status), next(unit_iter)) for _ in range(6)]
        for status in OFF_UNIT_STATUSES:
            plan += [(status, None), (status, None)]

        for index, (status, unit) in enumerate(plan, start=1):
            serial = f"{prefix}{index:06d}"
            if Lock.objects.filter(serial=serial).exists():
                continue
            lock = Lock(
                account=facility.account, facility=facility, serial=serial, status=status, unit=unit
            )
            lock.unlock_code = f"{secrets.randbelow(10_000):04d}"
            lock.full_clean()
            lock.save()
            history = RELEASE_HISTORY if status == RELEASED else [(CREATED, "", status)]
            for kind, from_status, to_status in history:
                LockEvent.objects.create(
                    lock=lock,
                    actor_type=LockEvent.Actor.SYSTEM,
                    kind=kind,
                    from_status=from_status,
                    to_status=to_status,
                    unit=unit if to_status in UNIT_STATUSES else None,
                    details={"source": "seed_demo"},
                )

    def _print_sign_in(self) -> None:
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        self.stdout.write(
            "Sign in at /accounts/sign-in/ with any of these (password for all: "
            f"{DEMO_PASSWORD}):\n"
            "  owner@example.com        Owner of Harbor Self Storage\n"
            "  admin@example.com        Client Admin of Harbor Self Storage\n"
            "  manager@example.com      Client Personnel of Harbor Self Storage\n"
            "  restricted@example.com   Client Personnel (Restricted) of Harbor Self Storage\n"
            "  callcenter@example.com   Client Call Center of Harbor Self Storage\n"
            "  totp@example.com         Client Personnel with two-factor (authenticator key "
            f"{DEMO_TOTP_KEY})\n"
            "  downtown@example.com     Client Call Center, Harbor Downtown only\n"
            "  rival@example.com        Owner of Rival Storage\n"
            "  staff@example.com        platform staff (Django admin at /admin/; two-factor with "
            "the same key)\n"
            "Released overlocks (Returned to Dropbox, still on the unit): units B137, A138, B139, "
            "A140, B141 and A142 of every facility.\n"
            "Overlock release (/release/harbor-self-storage/): Harbor Downtown, unit B137, "
            "harper.hd37@example.com has paid and can receive the code."
        )


# --- Demo API key (lookup API) -----------------------------------------------------------
# The README's curl examples read DAVINCI_API_KEY / DAVINCI_API_SECRET from what this prints.
DEMO_API_KEY_NAME = "Demo Call Center"
# What docs/api.md's walk-through does with it: look up, release an overlock, set a status.
DEMO_API_KEY_PERMISSIONS = (
    KeyPermission.READ.value,
    KeyPermission.RELEASE.value,
    KeyPermission.SET_STATUS.value,
)


def seed_demo_api_key(stdout, *, base_url: str = DEMO_BASE_URL, fms_events: bool = False) -> None:
    """Give Harbor Self Storage an All Facilities key named "Demo Call Center" (once) that
    may read, release and set statuses (added on every run, also to a key seeded before
    permissions existed), and print its API Key and API Secret as shell exports. With
    `fms_events`, the key may also send FMS events (the Automations walk-through). Nothing
    given in the portal since is taken away."""
    account = Account.objects.get(slug="harbor-self-storage")
    key = ApiKey.objects.filter(account=account, name=DEMO_API_KEY_NAME, deleted_at=None).first()
    secret = None
    if key is not None and key.secret_encrypted:
        try:
            secret = crypto.decrypt(key.secret_encrypted)
        except crypto.InvalidToken:
            secret = None  # FIELD_ENCRYPTION_KEYS changed since: give the demo key a new one
    if key is None:
        key = ApiKey(
            account=account, name=DEMO_API_KEY_NAME, api_key=api_secrets.generate_api_key()
        )
    wanted = [*DEMO_API_KEY_PERMISSIONS, *([KeyPermission.FMS_EVENTS] if fms_events else [])]
    permissions = key_permissions_clean([*key.permissions, *wanted])
    if secret is None:
        secret = api_secrets.generate_api_secret()
        key.set_secret(secret)
        key.permissions = permissions
        key.save()
    elif permissions != key.permissions:
        key.permissions = permissions
        key.save(update_fields=["permissions"])
    state = "" if key.is_active else "  (disabled in the portal: enable it to use it)"
    stdout.write(
        f'\nDemo API key "{DEMO_API_KEY_NAME}" of {account.name}{state}. For the lookup '
        "API examples in README.md:\n"
        f"  export DAVINCI_API_KEY={key.api_key}\n"
        f"  export DAVINCI_API_SECRET={secret}\n"
        '  curl -s -H "X-API-Key: $DAVINCI_API_KEY" -H "X-API-Secret: $DAVINCI_API_SECRET" '
        f"{base_url.rstrip('/')}/api/v1/facilities/"
    )
    if KeyPermission.FMS_EVENTS in key.permissions:
        stdout.write("  It may also send FMS events (Automations: docs/automations.md).")
