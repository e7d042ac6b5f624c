"""Re-encrypt every encrypted value under the first key of FIELD_ENCRYPTION_KEYS.

Rotation: put a new key in front of FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then remove the old keys.
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from davinci import crypto

BATCH_SIZE = 500


class Command(BaseCommand):
    help = "Re-encrypt unlock codes and API secrets under the first FIELD_ENCRYPTION_KEYS key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, batch_size: int, **options) -> None:
        for label, field in crypto.ENCRYPTED_COLUMNS:
            model = apps.get_model(label)
            count = self._rotate(model, field, batch_size)
            self.stdout.write(f"{label}.{field}: {count} value(s) re-encrypted")
        self.stdout.write(self.style.SUCCESS("Every encrypted value now uses the first key."))

    def _rotate(self, model, field: str, batch_size: int) -> int:
        count = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = list(
                    model._base_manager.select_for_update()
                    .filter(pk__gt=last_pk)
                    .exclude(**{field: ""})
                    .order_by("pk")
                    .values_list("pk", field)[:batch_size]
                )
                if not rows:
                    return count
                updated = []
                for pk, token in rows:
                    try:
                        new_token = crypto.rotate(token)
                    except crypto.InvalidToken as exc:
                        raise CommandError(
                            f"{model._meta.label} #{pk}: no key in FIELD_ENCRYPTION_KEYS decrypts "
                            "this value. Put the old key back (after the new one) and run again."
                        ) from exc
                    updated.append(model(pk=pk, **{field: new_token}))
                model._base_manager.bulk_update(updated, [field])
                count += len(rows)
                last_pk = rows[-1][0]
