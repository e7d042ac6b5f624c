"""Settings of bench/api_bench.py's DRF peer (and of its migrations): production settings
(DEBUG off, the same middleware as the product) plus Django REST framework, its peer routed
by bench/urls.py. The product is served with its own settings, which carry no benchmark
switch."""

from davinci.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework", "rest_framework_api_key"]  # noqa: F405
ROOT_URLCONF = "bench.urls"

REST_FRAMEWORK = {
    # The peer authenticates with HasAPIKey only: no session or user lookups.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    # DRF's own throttle, its history in the default cache (Redis on the bench); never
    # reached. Per second: a per-minute window would keep a minute of timestamps per key.
    "DEFAULT_THROTTLE_RATES": {"lookup": "1000000000/s"},
}
# The same headers as the product: X-API-Key carries the DRF key ("prefix.secret").
API_KEY_CUSTOM_HEADER = "HTTP_X_API_KEY"
