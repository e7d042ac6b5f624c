"""gunicorn settings for the portal (the Procfile's web process: `gunicorn -c gunicorn.conf.py
davinci.wsgi`). Every value can be changed from the environment; docs/deploy.md explains them.
"""

import ipaddress
import os
from pathlib import Path

import environ

env = environ.Env()
environ.Env.read_env(Path(__file__).resolve().parent / ".env", overwrite=False)

wsgi_app = "davinci.wsgi:application"
bind = env.list("GUNICORN_BIND", default=[f"0.0.0.0:{env.int('PORT', default=8000)}"])


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# The lookups are CPU-bound (bench/api_bench.py): one worker process per core, each with a few
# threads so connections kept alive by the load balancer do not each hold a whole worker.
workers = env.int("WEB_CONCURRENCY", default=_cores())
worker_class = "gthread"
threads = env.int("GUNICORN_THREADS", default=4)
# A request still running after this many seconds is killed (and the worker replaced): the
# slowest legitimate request, a CSV import of 20,000 rows, takes a few seconds.
timeout = env.int("GUNICORN_TIMEOUT", default=30)
# On SIGTERM (a deploy), workers finish their requests for this long before they are killed.
graceful_timeout = env.int("GUNICORN_GRACEFUL_TIMEOUT", default=30)
# Longer than the load balancer's idle timeout (60 s on most), so gunicorn never closes a
# connection the balancer is about to reuse (which shows as sporadic 502s).
keepalive = env.int("GUNICORN_KEEPALIVE", default=75)
# Replace each worker after about this many requests, so a slow leak cannot grow for ever.
max_requests = env.int("GUNICORN_MAX_REQUESTS", default=1000)
max_requests_jitter = max(1, max_requests // 10) if max_requests else 0
# Heartbeat files in memory, not on a possibly slow or read-only disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# Only the proxies the portal trusts (TRUSTED_PROXIES, the same list Django reads) may tell
# gunicorn the request came over HTTPS (X-Forwarded-Proto) or use the PROXY protocol. Empty:
# nobody, whatever the headers say.
_trusted = [
    str(ipaddress.ip_network(entry.strip(), strict=False))
    for entry in env.list("TRUSTED_PROXIES", default=[])
    if entry.strip()
]
forwarded_allow_ips = ",".join(_trusted)
proxy_allow_ips = ",".join(_trusted)

# Access log on stdout without query strings: a query can hold what people searched for
# (unit numbers, serials) and nothing after "?" belongs in a log. %(U)s is the path only.
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = env.str("LOG_LEVEL", default="info").lower()
