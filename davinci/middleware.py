"""Cross-cutting middleware: request ids and logs, the security headers of every response,
and a friendly 503 page on portal pages when the database cannot be reached."""

import logging
import re
import time
import uuid

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.cache import patch_cache_control

from davinci.net import is_api_path
from davinci.outage import DATABASE_ERRORS, UNAVAILABLE_RETRY_AFTER, outage_of, what_is_down

logger = logging.getLogger("davinci.request")
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _user_id(request: HttpRequest) -> int | None:
    """The signed-in user's id, once CurrentAccountMiddleware has loaded the user (it sets
    request.membership, None or not, for every request it loads one for). Never loaded here:
    a request refused earlier, or one whose session failed to load (the database is down),
    is logged as None, and the API has no user."""
    user = getattr(request, "user", None) if hasattr(request, "membership") else None
    return user.pk if getattr(user, "is_authenticated", False) else None


class RequestLogMiddleware:
    """Gives each request an id (X-Request-ID, echoed back) and logs one line when it ends.

    The line names the user's id or the API key's public id; never a secret, a password or
    a query string (which could carry anything a client typed).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
        started = time.monotonic()
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        api_key = getattr(request, "api_key", None)
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        logger.info(
            "%s %s %s %sms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "request_id": request.id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
                "api_key": api_key.api_key if api_key is not None else None,
            },
        )
        return response


class QueryStringMiddleware:
    """More query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS is a clear 400 (JSON under
    /api/), answered here before anything else reads request.GET: even Django's debug error
    page would read it again and fail with a bare 500 from the server."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request.GET  # noqa: B018 - parsed here, once, so the error is ours to answer
        except TooManyFieldsSent:
            message = "Too many query parameters."
            if is_api_path(request):  # the API's error shape (integrations/api/errors.py)
                error = {"error": {"code": "invalid_parameter", "message": message}}
                return JsonResponse(error, status=400)
            return HttpResponse(
                loader.render_to_string("400.html", {"message": message}),
                status=400,
                content_type="text/html; charset=utf-8",
            )
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Content-Security-Policy (no inline script or style anywhere) and Permissions-Policy.

    X-Frame-Options, nosniff, Referrer-Policy and HSTS come from Django's own middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = "; ".join(
            f"{directive} {' '.join(sources)}"
            for directive, sources in settings.CONTENT_SECURITY_POLICY.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.policy)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        # Signed-in pages show tenant contacts, codes or secrets, and the API answers codes:
        # no shared cache, browser history or back button may keep them.
        if not response.has_header("Cache-Control") and (
            is_api_path(request) or _user_id(request) is not None
        ):
            patch_cache_control(response, private=True, no_store=True)
        return response


class DatabaseUnavailableMiddleware:
    """Portal pages (everything but the API, which answers its own JSON 503) show a short
    "temporarily unavailable" page with status 503 and Retry-After when the database cannot
    be reached: never a traceback, never the generic 500 page. Nothing is cached, so the
    portal recovers by itself on the first request after the database is back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        failed = outage_of(request)
        if response.status_code != 500 or failed is None or is_api_path(request):
            return response
        # Rewrite in place: the security headers and the request id set on the way out stay.
        return _unavailable(request, failed, response)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_ERRORS) or is_api_path(request):
            return None
        return _unavailable(request, exception, HttpResponse())


def _unavailable(
    request: HttpRequest, exception: BaseException, response: HttpResponse
) -> HttpResponse:
    """`response` turned into the 503 page naming what is down, and the outage logged."""
    what = what_is_down(exception)
    logger.warning(
        "%s unavailable: %s %s answered 503 (%s)",
        what,
        request.method,
        request.path,
        type(exception).__name__,
        extra={"request_id": getattr(request, "id", None)},
    )
    response.status_code = 503
    response.reason_phrase = "Service Unavailable"
    # No request context: the context processors would query the database that is down.
    response.content = loader.get_template("503.html").render({"what": what})
    response["Content-Type"] = "text/html; charset=utf-8"
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    # The failure may have come before the clickjacking middleware (innermost) ran.
    response.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
    return response
