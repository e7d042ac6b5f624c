"""The database goes away under load and comes back: nothing breaks that should not, and no
unlock code leaves without its LockEvent.

A throwaway PostgreSQL cluster of its own (initdb into a temporary folder, its own port) runs
the portal under gunicorn while a load of unit lookups goes on. The script then stops the
database (by default `pg_ctl stop -m immediate`: a crash, recovered from the WAL) and
checks that:

  - the API answers 503 `unavailable` in JSON with Retry-After (no HTML, no traceback);
  - portal pages answer the friendly 503 page, signing in included; /readyz says 503;
  - after the database is started again both recover by themselves, without restarting
    gunicorn (same processes, CONN_HEALTH_CHECKS reconnects), and how long that took;
  - every response that carried an unlock code has its LockEvent (counted per key and lock).

Prints its figures and exits 1 when a promise is broken. About 25 seconds.

    .venv/bin/python bench/db_outage.py [--port 8122] [--pg-port 55432] [--outage 4]
"""

from __future__ import annotations

import argparse
import datetime as dt
import threading
import time

from _common import (
    Gunicorn,
    Http,
    Outcome,
    Report,
    ThrowawayPostgres,
    Workspace,
    code_lookups_by_key_and_serial,
    codes_by_key_and_serial,
    default_postgres_port,
    lookup_once,
    prepare_production,
    run_lookups,
    seed,
)

LEAKS = ("Traceback", "OperationalError", "psycopg", "connection to server", "postgres")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8122)
    parser.add_argument(
        "--pg-port",
        type=int,
        default=default_postgres_port(),
        help="the throwaway cluster's port (default: 55432, or the first port above the "
        "ephemeral range when 55432 is in it)",
    )
    parser.add_argument("--redis-db", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=8, help="load connections")
    parser.add_argument("--before", type=float, default=3, help="seconds of load before")
    parser.add_argument("--outage", type=float, default=4, help="seconds the database is down")
    parser.add_argument("--after", type=float, default=3, help="seconds of load after recovery")
    parser.add_argument("--stop-mode", choices=["immediate", "fast"], default="immediate")
    args = parser.parse_args()
    report = Report("db_outage: PostgreSQL stopped and started under load")

    with Workspace("outage") as workspace:
        postgres = ThrowawayPostgres(workspace, args.pg_port)
        postgres.init()
        postgres.start()
        database_url = postgres.create_database("davinci")
        env = prepare_production(
            workspace,
            database_url=database_url,
            redis_db=args.redis_db,
            API_RATE_LIMIT_PER_MINUTE=1_000_000,
        )
        data = seed(facilities=2, units_per_facility=25, keys=4)
        server = Gunicorn(workspace, "outage", args.port, env, workers=2, threads=4)
        server.start()
        master_pid = server.pid
        boots_before = server.log_text().count("Booting worker")
        report.figure(
            "PostgreSQL (throwaway cluster)", f"127.0.0.1:{args.pg_port}, {workspace.path}"
        )
        report.figure("gunicorn", f"127.0.0.1:{args.port}, 2 workers x 4 threads, pid {master_pid}")
        report.figure(
            "load", f"{args.concurrency} connections of unit lookups, {len(data.keys)} keys"
        )

        from django.utils import timezone

        since = timezone.now() - dt.timedelta(seconds=1)
        key, target = data.keys[0], data.targets[0]
        probes: list[Outcome] = []
        portal = Http(args.port)
        portal.sign_in(data.owner_email, data.password)

        report.section("before the outage")
        probes.append(lookup_once(Http(args.port), key, target))
        page = portal.get("/facilities/")
        report.promise(
            "the API and the portal answer 200", probes[-1].status == 200 and page.status == 200
        )

        stop = threading.Event()
        load: list[Outcome] = []
        thread = threading.Thread(
            target=lambda: load.extend(
                run_lookups(
                    args.port, data.keys, data.targets, concurrency=args.concurrency, stop=stop
                )
            ),
            daemon=True,
        )
        thread.start()
        time.sleep(args.before)

        report.section(f"database stopped ({args.stop_mode})")
        postgres.stop(args.stop_mode)
        down_at = time.time()
        time.sleep(0.3)
        check_during_outage(report, args.port, portal, data, probes)
        time.sleep(max(0.0, args.outage - (time.time() - down_at)))

        report.section("database started again")
        postgres.start()
        up_at = time.time()
        api_seconds, portal_seconds = wait_for_recovery(args.port, portal, data, probes, up_at)
        report.figure("database down for", f"{up_at - down_at:.1f} s")
        report.figure("API recovered after the database was up", _seconds(api_seconds))
        report.figure("portal recovered after the database was up", _seconds(portal_seconds))
        report.promise("the API recovers by itself within 10 s", api_seconds is not None)
        report.promise("the portal recovers by itself within 10 s", portal_seconds is not None)
        time.sleep(args.after)
        stop.set()
        thread.join(timeout=60)

        report.section("the load")
        check_load(report, load, down_at, up_at)

        report.section("gunicorn")
        report.promise(
            "gunicorn was not restarted: same master, no worker booted again",
            server.alive()
            and server.pid == master_pid
            and server.log_text().count("Booting worker") == boots_before,
        )
        report.promise("the request log shows no 500", server.server_errors() == 0)

        report.section("LockEvents")
        check_lock_events(report, load + probes, since)
    report.finish()


def _seconds(value: float | None) -> str:
    return "never (10 s)" if value is None else f"{value:.2f} s"


def _clean(text: str) -> bool:
    return not any(leak in text for leak in LEAKS)


def check_during_outage(report: Report, port: int, portal: Http, data, probes: list) -> None:
    client = Http(port)
    key, target = data.keys[1], data.targets[1]
    api = client.get(target.path, headers=key.headers())
    probes.append(Outcome(time.time(), time.time(), api.status, key.api_key, target.serial))
    report.figure(
        "unit lookup",
        f"{api.status} {api.error_code()} Retry-After={api.headers.get('retry-after')}",
    )
    report.promise(
        "the API answers 503 unavailable, JSON, with Retry-After, nothing about the database",
        api.status == 503
        and api.content_type.startswith("application/json")
        and api.error_code() == "unavailable"
        and "retry-after" in api.headers
        and _clean(api.text),
        api.text[:300],
    )
    facilities = client.get("/api/v1/facilities/", headers=key.headers())
    report.promise(
        "the facility list answers the same",
        facilities.status == 503 and facilities.error_code() == "unavailable",
    )

    page = portal.get("/facilities/")
    report.figure("portal page (signed in)", f"{page.status} {page.content_type}")
    report.promise(
        "a portal page answers the friendly 503 page, nothing about the database",
        page.status == 503
        and page.content_type.startswith("text/html")
        and "temporarily unavailable" in page.text
        and _clean(page.text),
        page.text[:300],
    )
    visitor = Http(port)
    sign_in = visitor.sign_in(data.owner_email, data.password)
    report.figure("sign in (a new visitor)", sign_in.status)
    report.promise(
        "signing in answers the friendly 503 page",
        sign_in.status == 503
        and "temporarily unavailable" in sign_in.text
        and _clean(sign_in.text),
    )
    readyz, healthz = client.get("/readyz"), client.get("/healthz")
    report.figure("/readyz, /healthz", f"{readyz.status}, {healthz.status}")
    report.promise(
        "/readyz says 503 (take the instance out of rotation), /healthz 200 (do not restart it)",
        readyz.status == 503 and healthz.status == 200,
    )


def wait_for_recovery(
    port: int, portal: Http, data, probes: list, up_at: float
) -> tuple[float | None, float | None]:
    client = Http(port)
    key, target = data.keys[2], data.targets[2]
    api_seconds = portal_seconds = None
    while time.time() - up_at < 10 and (api_seconds is None or portal_seconds is None):
        if api_seconds is None:
            outcome = lookup_once(client, key, target)
            probes.append(outcome)
            if outcome.status == 200:
                api_seconds = time.time() - up_at
        if portal_seconds is None and portal.get("/facilities/").status == 200:
            portal_seconds = time.time() - up_at
        time.sleep(0.05)
    return api_seconds, portal_seconds


def check_load(report: Report, load: list[Outcome], down_at: float, up_at: float) -> None:
    statuses: dict[int, int] = {}
    for outcome in load:
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
    unavailable = [o for o in load if o.status == 503]
    unexpected = [o for o in load if o.status not in (200, 503)]
    report.figure("lookups", len(load))
    report.figure("by status", ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    report.figure("with an unlock code", sum(o.code_returned for o in load))
    report.promise("the load saw the outage (some 503s)", bool(unavailable))
    report.promise(
        "every answer is 200 or 503 unavailable (no 500, no connection error)",
        not unexpected,
        str([(o.status, o.problem[:80]) for o in unexpected[:5]]),
    )
    bad_503 = [
        o
        for o in unavailable
        if not (o.json_body and o.retry_after and o.error_code == "unavailable")
    ]
    report.promise("every 503 is JSON unavailable with Retry-After", not bad_503, str(bad_503[:3]))
    report.promise(
        "every 200 carried the code of the lock asked for",
        all(o.code_returned and not o.problem for o in load if o.status == 200),
    )
    recovered = [o for o in load if o.status == 200 and o.started > up_at]
    first_ok = min((o.finished for o in recovered), default=None)
    tail = [o for o in load if first_ok is not None and o.started > first_ok + 1]
    report.figure("lookups started 1 s after the first success", len(tail))
    report.promise(
        "after recovery every lookup succeeds again",
        bool(tail) and all(o.status == 200 for o in tail),
    )


def check_lock_events(report: Report, outcomes: list[Outcome], since) -> None:
    codes = codes_by_key_and_serial(outcomes)
    events = code_lookups_by_key_and_serial(since)
    missing = {
        pair: n - events.get(pair, 0) for pair, n in codes.items() if events.get(pair, 0) < n
    }
    report.figure("responses that carried a code", sum(codes.values()))
    report.figure("LockEvents 'code looked up'", sum(events.values()))
    report.figure(
        "events whose response was lost in the crash", sum(events.values()) - sum(codes.values())
    )
    report.promise(
        "no LockEvent lost: for every key and lock, events >= codes returned",
        not missing,
        f"missing for {len(missing)} (key, lock) pairs: {list(missing.items())[:3]}",
    )


if __name__ == "__main__":
    main()
