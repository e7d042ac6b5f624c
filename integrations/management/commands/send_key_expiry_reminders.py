from django.core.management.base import BaseCommand

from integrations.reminders import send_key_expiry_reminders


class Command(BaseCommand):
    help = (
        "Email owners and admins about API keys expiring in 14, 3 or 1 days or just expired; "
        "each reminder once. Safe to run as often as you like (cron: daily or hourly)."
    )

    def handle(self, *args, **options) -> None:
        result = send_key_expiry_reminders()
        self.stdout.write(f"{result.sent} expiry reminder(s) sent ({result.emails} recipient(s)).")
