"""Probes for load balancers: /healthz (the process answers) and /readyz (it can serve)."""

import logging

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "cache": _check_cache()}
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure means "not ready"; the reason goes to the log
        logger.warning("readyz: database check failed", exc_info=True)
        return "unavailable"
    return "ok"


def _check_cache() -> str:
    try:
        cache.set("readyz", "ok", timeout=5)
        if cache.get("readyz") != "ok":
            return "unavailable"
    except Exception:
        logger.warning("readyz: cache check failed", exc_info=True)
        return "unavailable"
    return "ok"
