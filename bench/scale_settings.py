"""Settings of bench/scale.py's server: production settings (DEBUG off, the full middleware
stack) with bench/server_timing.py first, so each response reports its server time and
query count. The product's own settings carry no benchmark switch."""

from davinci.settings import *  # noqa: F403

MIDDLEWARE = ["bench.server_timing.ServerTiming", *MIDDLEWARE]  # noqa: F405
# A request that gunicorn's 30 s timeout kills leaves its statement running on PostgreSQL
# (the issue saw one run 131 s on), which would slow every page measured after it.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c statement_timeout=30000"  # noqa: F405
