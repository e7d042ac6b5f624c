"""What the running settings use, in a few lines, without any password: `make run` prints it
so nobody wonders whether .env, PostgreSQL or the real mail server is in play."""

from django.conf import settings
from django.core.management.base import BaseCommand

from davinci import settings as settings_module


class Command(BaseCommand):
    help = "Say which settings, database, cache, email and SMS backends are in use."

    def handle(self, *args, **options) -> None:
        env_file = settings.BASE_DIR / ".env"
        database = settings.DATABASES["default"]
        engine = database["ENGINE"].rsplit(".", 1)[-1]
        where = database["NAME"]
        if engine != "sqlite3":
            host = f"{database.get('HOST') or 'localhost'}:{database.get('PORT') or 5432}"
            where = f"{where} on {host}"
        cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        secrets = settings_module._DEVELOPMENT_DEFAULTS
        lines = [
            f"Settings: {settings.SETTINGS_MODULE}, DEBUG {'on' if settings.DEBUG else 'off'}, "
            + (f"{env_file} read" if env_file.exists() else "no .env file (environment only)"),
            f"  database: {engine} {where}",
            f"  cache:    {cache}",
            f"  email:    {settings.EMAIL_BACKEND.rsplit('.', 2)[-2]}",
            f"  texts:    {settings.SMS_BACKEND or 'off'}",
            "  secrets:  "
            + (
                f"{', '.join(secrets)} not set: development values derived in code (fine "
                "with DEBUG on; never run like this in production)"
                if secrets
                else "set"
            ),
        ]
        self.stdout.write("\n".join(lines))
