"""The middleware only portal pages need, skipped by requests to the lookup API.

A lookup (`/api/v1/`) authenticates with an API key, keeps no session, has no user (so no
second factor and no account policy to apply), no account or messages, and is never a static
file: it needs none of the middleware below, and on the API's busiest path each one would be
work for nothing. `portal_only(M)` is M itself (a subclass, so Django's system checks still
find it) whose request passes straight on to the next one when it is a lookup. Everything
else — /api/docs/, the release page, the admin, every portal page — runs M as written.

What a lookup keeps (davinci/settings.py): the API's JSON errors, the request id and log line,
the query-string guard, SecurityMiddleware (HSTS, nosniff, the HTTPS redirect),
CommonMiddleware (which refuses a Host outside ALLOWED_HOSTS), CSRF (a no-op for its
csrf_exempt views), the security headers and X-Frame-Options.
"""

from __future__ import annotations

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest, HttpResponse
from django_otp import middleware as otp
from whitenoise import middleware as whitenoise

from davinci.accounts import middleware as accounts
from davinci.net import is_lookup_api_path


def portal_only(middleware: type) -> type:
    """`middleware`, bypassed by lookup API requests (its process_view too, if it has one)."""

    class PortalOnly(middleware):
        def __call__(self, request: HttpRequest) -> HttpResponse:
            if is_lookup_api_path(request):
                return self.get_response(request)
            return super().__call__(request)

        if hasattr(middleware, "process_view"):

            def process_view(self, request: HttpRequest, *args, **kwargs):
                if is_lookup_api_path(request):
                    return None
                return super().process_view(request, *args, **kwargs)

    PortalOnly.__name__ = PortalOnly.__qualname__ = middleware.__name__
    PortalOnly.__doc__ = f"{middleware.__module__}.{middleware.__name__}, for portal pages."
    return PortalOnly


WhiteNoiseMiddleware = portal_only(whitenoise.WhiteNoiseMiddleware)
SessionMiddleware = portal_only(sessions.SessionMiddleware)
AuthenticationMiddleware = portal_only(auth.AuthenticationMiddleware)
LoginRequiredMiddleware = portal_only(auth.LoginRequiredMiddleware)
OTPMiddleware = portal_only(otp.OTPMiddleware)
CurrentAccountMiddleware = portal_only(accounts.CurrentAccountMiddleware)
TwoFactorPolicyMiddleware = portal_only(accounts.TwoFactorPolicyMiddleware)
AccountTimeZoneMiddleware = portal_only(accounts.AccountTimeZoneMiddleware)
MessageMiddleware = portal_only(messages.MessageMiddleware)
