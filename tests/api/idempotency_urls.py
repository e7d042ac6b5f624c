"""A URLconf for tests/api/test_idempotency.py: the site's, plus one write that does only
what its body asks, so the POST machinery is tested apart from any real endpoint."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from davinci.accounts.permissions import KeyPermission
from davinci.urls import urlpatterns as site_urlpatterns
from integrations.api.errors import api_error, api_response
from integrations.api.idempotency import InvalidBody
from integrations.api.views import api_endpoint

ACTED: list[dict] = []  # every body the write acted on


@api_endpoint(permission=KeyPermission.READ, method="POST")
def echo_write(request: HttpRequest, name: str) -> HttpResponse:
    body = request.json
    if body.get("fail") == "field":
        raise InvalidBody("fail", "fail must not be field.")
    if body.get("fail") == "exception":
        raise RuntimeError("the write failed")
    ACTED.append(body)
    if body.get("fail") == "not_found":
        return api_error(404, "not_found", "Nothing here.")
    return api_response({"data": {"name": name, "body": body, "acted": len(ACTED)}})


urlpatterns = [path("api/v1/test-writes/<str:name>/", echo_write), *site_urlpatterns]
