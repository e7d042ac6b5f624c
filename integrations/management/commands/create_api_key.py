"""`manage.py create_api_key --account SLUG --name NAME [--facility FACILITY_ID ...]
[--permissions read,release]`

For platform staff and scripts: creates a key through the same service as the portal (audit
event, owners emailed) and prints the API Key and API Secret once, as JSON, on stdout.
"""

import contextlib
import datetime as dt
import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from davinci.accounts.models import Account
from davinci.accounts.permissions import DEFAULT_KEY_PERMISSIONS, KeyPermission
from facilities.models import Facility
from integrations.forms import expiry_to_datetime, parse_allowed_ips
from integrations.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create an API key for an account and print its API Key and API Secret as JSON. "
        "Without --facility the key covers All Facilities."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", required=True, help="The account's slug.")
        parser.add_argument("--name", required=True, help="A descriptive name, e.g. 'Call Center'.")
        parser.add_argument(
            "--facility",
            action="append",
            default=[],
            metavar="FACILITY_ID",
            help="Limit the key to this facility (repeat for several). Default: All Facilities.",
        )
        parser.add_argument(
            "--expires",
            metavar="YYYY-MM-DD",
            help="The key stops working at 00:00 on this day.",
        )
        parser.add_argument(
            "--allowed-ip",
            action="append",
            default=[],
            metavar="CIDR",
            help="Only accept calls from this address or CIDR range (repeat for several).",
        )

        parser.add_argument(
            "--permissions",
            default=",".join(DEFAULT_KEY_PERMISSIONS),
            metavar="NAME,NAME",
            help="What the key may do, comma-separated, from: "
            f"{', '.join(KeyPermission.values)}. Default: read.",
        )

    def handle(self, *args, **options) -> None:
        account = Account.objects.filter(slug=options["account"]).first()
        if account is None:
            raise CommandError(f"No account with the slug {options['account']!r}.")
        name = options["name"].strip()
        if not name or len(name) > 100:
            raise CommandError("--name must be 1 to 100 characters.")

        facility_ids = list(dict.fromkeys(options["facility"]))
        facilities = list(
            Facility.objects.for_account(account).filter(facility_id__in=facility_ids)
        )
        missing = sorted(set(facility_ids) - {f.facility_id for f in facilities})
        if missing:
            raise CommandError(
                f"Not a Facility ID of {account.slug}: {', '.join(missing)}. "
                "The Facilities tab under Integrations lists them."
            )

        expires_at = None
        if options["expires"]:
            try:
                day = dt.datetime.strptime(options["expires"], "%Y-%m-%d").date()
            except ValueError as exc:
                raise CommandError("--expires must be a date like 2030-12-31.") from exc
            if day <= timezone.localdate():
                raise CommandError("--expires must be a date after today.")
            expires_at = expiry_to_datetime(day)

        permissions = [name.strip() for name in options["permissions"].split(",") if name.strip()]
        unknown = sorted(set(permissions) - set(KeyPermission.values))
        if unknown or not permissions:
            raise CommandError(
                (f"Unknown permission: {', '.join(unknown)}. " if unknown else "")
                + f"--permissions takes one or more of {', '.join(KeyPermission.values)}, "
                "comma-separated (e.g. --permissions read,release)."
            )

        try:
            allowed_ips = parse_allowed_ips(" ".join(options["allowed_ip"]))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        # stdout carries only the JSON: whatever the owners' notice prints on the way (the
        # development console mail backend writes to sys.stdout) goes to stderr instead.
        try:
            with contextlib.redirect_stdout(sys.stderr):
                created = api_key_create(
                    account=account,
                    name=name,
                    all_facilities=not facilities,
                    facilities=facilities,
                    expires_at=expires_at,
                    allowed_ips=allowed_ips,
                    permissions=permissions,
                    actor=None,
                    ip=None,
                )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

        key = created.api_key
        self.stdout.write(
            json.dumps(
                {
                    "account": account.slug,
                    "name": key.name,
                    "api_key": key.api_key,
                    "api_secret": created.secret,
                    "all_facilities": key.all_facilities,
                    "facility_ids": sorted(f.facility_id for f in facilities),
                    "expires_at": key.expires_at.isoformat() if key.expires_at else None,
                    "allowed_ips": key.allowed_ips,
                    "permissions": key.permissions,
                },
                indent=2,
            )
        )
