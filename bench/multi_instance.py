"""Two gunicorn instances behind an imaginary load balancer share PostgreSQL and Redis, and
nothing that must be shared lives in a process:

  (a) a key disabled through instance A (the portal's Disable button, signed in on A) is
      refused by instance B on the very next request: 401 key_disabled;
  (b) the per-key rate limit is one limit: alternating between A and B, the requests
      accepted in one minute add up to the limit, not to twice it; the per-IP limit on failed
      authentications is shared the same way;
  (c) a session started on A is valid on B, and signing out on B ends it on A.

Prints its figures and exits 1 when a promise is broken. About 15 seconds.

    .venv/bin/python bench/multi_instance.py [--ports 8120 8121] [--rate-limit 30]
"""

from __future__ import annotations

import argparse
import time

from _common import (
    Gunicorn,
    Http,
    Report,
    Workspace,
    csrf_token,
    drop_database,
    prepare_production,
    recreate_database,
    seed,
)

DATABASE = "davinci_sec_multi"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ports", type=int, nargs=2, default=[8120, 8121], metavar="PORT")
    parser.add_argument("--redis-db", type=int, default=5)
    parser.add_argument("--rate-limit", type=int, default=30, help="API requests a minute per key")
    parser.add_argument("--auth-failure-limit", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument(
        "--local-cache",
        action="store_true",
        help="give each process its own memory cache instead of Redis, to see the script "
        "catch the limits that are then no longer shared (it exits 1)",
    )
    args = parser.parse_args()
    report = Report("multi_instance: two gunicorn instances, one PostgreSQL, one Redis")

    with Workspace("multi") as workspace:
        database_url = recreate_database(DATABASE)
        workspace.callback(drop_database, DATABASE)
        env = prepare_production(
            workspace,
            database_url=database_url,
            redis_db=args.redis_db,
            API_RATE_LIMIT_PER_MINUTE=args.rate_limit,
            API_AUTH_FAILURE_LIMIT_PER_MINUTE=args.auth_failure_limit,
            **({"CACHE_URL": "locmemcache://bench"} if args.local_cache else {}),
        )
        data = seed(facilities=1, units_per_facility=4, keys=3)
        instances = [
            Gunicorn(workspace, name, port, env, workers=args.workers, threads=2)
            for name, port in zip("AB", args.ports, strict=True)
        ]
        for instance in instances:
            seconds = instance.start()
            report.figure(
                f"instance {instance.name}", f"127.0.0.1:{instance.port}, ready in {seconds:.1f} s"
            )
        report.figure("workers per instance", f"{args.workers} (gthread, 2 threads)")
        report.figure("database", database_url)
        report.figure("cache", env["CACHE_URL"])
        a, b = (Http(instance.port) for instance in instances)

        session_on_a = check_sessions(report, a, b, data)
        check_disable(report, a, b, data, session_on_a)
        check_rate_limit(report, a, b, data, args.rate_limit)
        check_auth_failures(report, a, b, data, args.auth_failure_limit)
        check_sign_out(report, a, b, data)

        report.section("the instances")
        for instance in instances:
            lines = instance.request_lines()
            report.figure(f"requests logged by {instance.name}", len(lines))
            report.promise(
                f"instance {instance.name} is still up, answered no 5xx, logged no traceback",
                instance.alive()
                and not any(line["status"] >= 500 for line in lines)
                and "Traceback" not in instance.log_text(),
                instance.log_tail(5),
            )
            logged_keys = {line.get("api_key") for line in lines} - {None}
            report.promise(
                f"{instance.name}'s log names API keys by public id and holds no secret",
                bool(logged_keys) and not any(k.secret in instance.log_text() for k in data.keys),
            )
    report.finish()


def check_sessions(report: Report, a: Http, b: Http, data) -> str:
    report.section("(c) a session started on A is valid on B")
    response = a.sign_in(data.owner_email, data.password)
    report.figure("sign in on A", f"{response.status} -> {response.headers.get('location')}")
    session = a.cookies.get("sessionid", "")
    report.promise("signing in on A set a session cookie", response.status == 302 and bool(session))
    b.cookies = {"sessionid": session, "csrftoken": a.cookies.get("csrftoken", "")}
    page = b.get("/integrations/")
    report.figure("GET /integrations/ on B with A's cookie", page.status)
    report.promise(
        "B shows the signed-in owner's API Settings page",
        page.status == 200 and data.owner_email in page.text and "API Settings" in page.text,
    )
    return session


def _lookup(client: Http, key, target) -> tuple[int, str | None]:
    response = client.get(target.path, headers=key.headers())
    return response.status, response.error_code()


def check_disable(report: Report, a: Http, b: Http, data, session: str) -> None:
    report.section("(a) a key disabled through A is refused by B on the very next request")
    key, target = data.keys[0], data.targets[0]
    before = _lookup(b, key, target)
    report.figure("lookup on B before", before[0])
    report.promise("B answers the key before it is disabled", before[0] == 200)
    detail = a.get(f"/integrations/keys/{key.pk}/")
    started = time.monotonic()
    response = a.post(
        f"/integrations/keys/{key.pk}/disable/", {"csrfmiddlewaretoken": csrf_token(detail)}
    )
    after = _lookup(b, key, target)
    elapsed = (time.monotonic() - started) * 1000
    report.figure("Disable posted on A", f"{response.status} -> {response.headers.get('location')}")
    report.figure("next lookup on B", f"{after[0]} {after[1]}")
    report.figure("Disable on A to refusal on B", f"{elapsed:.0f} ms (one request each)")
    report.promise("the Disable form on A succeeded", response.status == 302)
    report.promise(
        "B refuses the key on the very next request: 401 key_disabled",
        after == (401, "key_disabled"),
    )
    report.promise("A refuses it too", _lookup(a, key, target) == (401, "key_disabled"))
    other = _lookup(b, data.keys[1], target)
    report.promise("another key of the account still works", other[0] == 200)


def _wait_for_fresh_window(needed: float) -> None:
    """Rate limits count per calendar minute: start where `needed` seconds remain in it."""
    remaining = 60 - time.time() % 60
    if remaining < needed:
        time.sleep(remaining + 0.2)


def check_rate_limit(report: Report, a: Http, b: Http, data, limit: int) -> None:
    report.section("(b) the per-key rate limit is shared by both instances")
    key, target = data.keys[2], data.targets[1]
    sent = 2 * limit + 10
    for attempt in range(2):
        _wait_for_fresh_window(needed=15)
        window = int(time.time() // 60)
        results = {"A": [], "B": []}
        for n in range(sent):
            name, client = ("A", a) if n % 2 == 0 else ("B", b)
            response = client.get(target.path, headers=key.headers())
            results[name].append((response.status, response.error_code(), response.headers))
        if int(time.time() // 60) == window or attempt == 1:
            break  # otherwise the burst straddled two windows: once more, in a fresh one
    accepted = {name: sum(1 for s, _, _ in rows if s == 200) for name, rows in results.items()}
    limited = [(s, code, h) for rows in results.values() for s, code, h in rows if s == 429]
    other = [(s, code) for rows in results.values() for s, code, _ in rows if s not in (200, 429)]
    report.figure("limit per key (API_RATE_LIMIT_PER_MINUTE)", limit)
    report.figure("requests sent, alternating A and B", sent)
    report.figure("accepted by A / by B", f"{accepted['A']} / {accepted['B']}")
    report.figure("accepted in total", sum(accepted.values()))
    report.figure("429 rate_limited", len(limited))
    report.promise(
        "the total accepted across both instances is the limit, not more",
        sum(accepted.values()) == limit,
        f"{sum(accepted.values())} accepted",
    )
    report.promise(
        "each instance accepted part of it (the count is shared)", min(accepted.values()) > 0
    )
    report.promise(
        "every refusal is 429 rate_limited with Retry-After",
        all(code == "rate_limited" and "retry-after" in h for _, code, h in limited) and not other,
        str(other[:3]),
    )


def check_auth_failures(report: Report, a: Http, b: Http, data, limit: int) -> None:
    report.section("(b') the per-IP limit on failed authentications is shared too")
    key, target = data.keys[1], data.targets[0]
    wrong = {
        "X-API-Key": key.api_key,
        "X-API-Secret": key.secret[:-1] + ("A" if key.secret[-1] != "A" else "B"),
    }
    _wait_for_fresh_window(needed=10)
    statuses = []
    for n in range(limit + 6):
        client = a if n % 2 == 0 else b
        statuses.append(client.get(target.path, headers=wrong).status)
    right_after = _lookup(b, key, target)
    failures = statuses.count(401)
    report.figure("failed authentications allowed per IP", limit)
    report.figure("wrong secrets sent, alternating A and B", len(statuses))
    report.figure("401 before the limit / 429 after", f"{failures} / {statuses.count(429)}")
    report.promise(
        "exactly the limit of failures is answered 401 across both instances", failures == limit
    )
    report.promise(
        "then even the right secret gets 429 on either instance until the minute is over",
        right_after[0] == 429,
        str(right_after),
    )


def check_sign_out(report: Report, a: Http, b: Http, data) -> None:
    report.section("(c') signing out on B ends the session on A")
    page = b.get("/integrations/")
    response = b.post("/accounts/sign-out/", {"csrfmiddlewaretoken": csrf_token(page)})
    b.cookies.pop("sessionid", None)
    after = a.get("/integrations/")
    report.figure("sign out on B", response.status)
    report.figure(
        "GET /integrations/ on A with the old cookie",
        f"{after.status} -> {after.headers.get('location')}",
    )
    report.promise(
        "A sends the old session to sign in",
        after.status == 302 and "/accounts/sign-in/" in after.headers.get("location", ""),
    )


if __name__ == "__main__":
    main()
