"""A bench-only middleware (bench/scale_settings.py puts it first): every response says how
long the server took and how many SQL statements it ran, in two headers that bench/scale.py
reads. Production settings never load it."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import connections
from django.http import HttpRequest, HttpResponse

TIME_HEADER = "X-Bench-Server-Ms"
QUERIES_HEADER = "X-Bench-Queries"


class ServerTiming:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        counted = [0]

        def count(execute, sql, params, many, context):
            counted[0] += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connections["default"].execute_wrapper(count):
            response = self.get_response(request)
            # A streamed body (a CSV export) runs its queries as it is read: read it here,
            # so they are counted and timed too.
            if response.streaming:
                response.streaming_content = [b"".join(response.streaming_content)]
        response[TIME_HEADER] = f"{(time.perf_counter() - started) * 1000:.2f}"
        response[QUERIES_HEADER] = str(counted[0])
        return response
