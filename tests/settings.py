"""Settings for the test suite: production settings with fixed test-only secrets.

DATABASE_URL and CACHE_URL still come from the environment (SQLite and local memory when
unset), so the same suite runs on PostgreSQL in CI.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
os.environ.setdefault(
    # Fernet.generate_key() once, for tests only.
    "FIELD_ENCRYPTION_KEYS",
    "u3JdIqC2kWSR2qX6fM0lKqKk0x3m1K2pT9xOqE8sYzA=",
)
os.environ.setdefault("API_KEY_DIGEST_SECRET", "test-only-digest-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# The live server for browser tests speaks plain HTTP.
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")

from davinci.settings import *  # noqa: F403

# Fast hashing for tests only; production uses Django's default PBKDF2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# No manifest during tests: collectstatic has not run.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if "EMAIL_URL" not in os.environ:  # the worker test's worker writes files instead
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
