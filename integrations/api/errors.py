"""The HTTP edge of the lookup API: JSON answers and JSON errors, whatever goes wrong.

Every error of the API (`davinci.net.is_api_path`) is `{"error": {"code": ..., "message":
...}}`. The API's own views answer that way directly; `ApiErrorMiddleware` makes sure nothing
else slips through: Django's HTML 404/500 pages (DEBUG's technical pages included), an empty
405 from a decorator, or a database outage raised in a view or in another middleware, which
becomes `503 unavailable`. It also reads every API request without its cookies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from davinci.net import is_api_path
from davinci.outage import DATABASE_ERRORS, UNAVAILABLE_RETRY_AFTER, outage_of, what_is_down

logger = logging.getLogger("integrations.api")


# What a bare error status means when something other than an API view produced it.
FALLBACK_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    403: ("forbidden", "This request is not allowed."),
    404: ("not_found", "There is nothing at this address. See /api/docs/."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("request_too_large", "The request is too large."),
    429: ("rate_limited", "Too many requests; wait and try again."),
    500: ("internal_error", "Something went wrong on our side; it has been logged."),
    503: ("unavailable", "The service is temporarily unavailable; try again shortly."),
}
UNLISTED_ERROR = ("error", "The request failed.")  # any other error status


def api_response(data: Any, *, status: int = 200, cache: str = "no-store") -> JsonResponse:
    """A JSON answer. API data is private to the key that asked: never stored by a cache."""
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = cache
    return response


def api_error(
    status: int, code: str, message: str, *, headers: dict[str, str] | None = None
) -> JsonResponse:
    response = api_response({"error": {"code": code, "message": message}}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def unavailable(exception: BaseException | None = None) -> JsonResponse:
    """503 naming what is down (its database, or its cache), as /readyz does."""
    return api_error(
        503,
        "unavailable",
        f"The service is temporarily unavailable (its {what_is_down(exception)} cannot be "
        "reached). Try again shortly.",
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
    )


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class ApiErrorMiddleware:
    """On the API (davinci.net.is_api_path): database errors become `503 unavailable`, and
    any error response that is not already JSON (Django's HTML pages, empty 405s) is
    rewritten as a JSON error with the same status and headers. Other paths are untouched.

    An API request is read without its cookies: a key authenticates it, never a session, so
    a browser's session cookie sent along is not even looked at. The portal's middleware
    (session, user, account, messages) runs as written and finds nobody signed in, at no
    query; the API answers set no cookie."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_path(request):
            return self.get_response(request)
        request.COOKIES = {}
        try:
            response = self.get_response(request)
        except Exception as exc:
            # Django's own error page failed as well (a template or static file it needs is
            # missing, or it queries the database that is down): answer JSON regardless.
            logger.exception("API request failed and so did Django's error page")
            outage = exc if isinstance(exc, DATABASE_ERRORS) else outage_of(request)
            if outage is not None:
                return unavailable(outage)
            code, message = FALLBACK_ERRORS[500]
            return api_error(500, code, message)
        if response.status_code < 400 or _is_json(response):
            return response
        outage = outage_of(request)
        if outage is not None:
            replacement = unavailable(outage)
            response.status_code = replacement.status_code
            response["Retry-After"] = replacement["Retry-After"]
        else:
            code, message = FALLBACK_ERRORS.get(response.status_code, UNLISTED_ERROR)
            replacement = api_error(response.status_code, code, message)
        if response.streaming:
            return replacement
        # Rewrite in place so headers set on the way out (request id, Allow, security
        # headers, Retry-After) survive.
        response.content = replacement.content
        response["Content-Type"] = replacement["Content-Type"]
        response["Cache-Control"] = "no-store"
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request) or not isinstance(exception, DATABASE_ERRORS):
            return None
        logger.warning(
            "API request failed: %s unavailable (%s)",
            what_is_down(exception),
            type(exception).__name__,
        )
        return unavailable(exception)
