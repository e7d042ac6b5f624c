"""20,000 unit lookups at 32 concurrent keep-alive connections across several API keys, on
gunicorn + PostgreSQL + Redis with production settings:

  - no error at all except the intended 429s of the per-key rate limit: no 5xx, no
    connection error, every 200 carries the code of the lock asked for;
  - the rate limit holds under concurrency: half of the connections use one "hot" key that
    goes over its limit on purpose (and, refused, waits as long as Retry-After says, like a
    well-behaved client); per key and per minute no more than the limit is accepted, and no
    request is refused while its minute still had room; every refusal is `429 rate_limited`
    with Retry-After. The limit is set so that the other keys cannot reach it;
  - exactly one LockEvent per unlock code returned, per key and lock: none missing, none extra
    (429s and errors leave none).

Prints its figures (throughput, latency, statuses, events) and exits 1 when a promise is
broken. About a minute on 2 cores.

    .venv/bin/python bench/load_test.py [--requests 20000] [--concurrency 32] [--keys 8]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import time
from collections import Counter, defaultdict

from _common import (
    Gunicorn,
    Outcome,
    Report,
    Workspace,
    code_lookups_by_key_and_serial,
    codes_by_key_and_serial,
    drop_database,
    percentile,
    prepare_production,
    recreate_database,
    run_lookups,
    seed,
)

DATABASE = "davinci_sec_load"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--redis-db", type=int, default=6)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--keys", type=int, default=8, help="ordinary keys, besides the hot one")
    parser.add_argument(
        "--rate-limit",
        type=int,
        help="requests a minute per key (default: one more than --requests / --keys, which "
        "no ordinary key can reach in the whole run since they take turns, while the hot key "
        "does within a minute at 2 x limit / 60 lookups/s)",
    )
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    args.rate_limit = args.rate_limit or args.requests // args.keys + 1
    report = Report("load_test: unit lookups under concurrency")

    with Workspace("load") as workspace:
        database_url = recreate_database(DATABASE)
        workspace.callback(drop_database, DATABASE)
        env = prepare_production(
            workspace,
            database_url=database_url,
            redis_db=args.redis_db,
            API_RATE_LIMIT_PER_MINUTE=args.rate_limit,
        )
        data = seed(facilities=2, units_per_facility=50, keys=args.keys + 1)
        hot, ordinary = data.keys[0], data.keys[1:]
        server = Gunicorn(
            workspace, "load", args.port, env, workers=args.workers, threads=args.threads
        )
        server.start()
        hot_connections = args.concurrency // 2
        report.figure(
            "gunicorn", f"127.0.0.1:{args.port}, {args.workers} workers x {args.threads} threads"
        )
        report.figure("database, cache", f"{database_url}, {env['CACHE_URL']}")
        report.figure("lookups, connections", f"{args.requests}, {args.concurrency} (keep-alive)")
        report.figure(
            "keys",
            f"1 hot key on {hot_connections} connections (when refused it waits out "
            f"Retry-After), {len(ordinary)} on the others",
        )
        report.figure("units (each with an overlock)", len(data.targets))
        report.figure("rate limit per key and minute", args.rate_limit)

        # The ordinary keys take turns request by request, not connection by connection:
        # connections are not served equally fast (gunicorn spreads them unevenly over its
        # workers), and a key tied to fast connections could otherwise reach the limit.
        ordinary_turns = itertools.count()

        def pick(thread: int, n: int):
            target = data.targets[n % len(data.targets)]
            if thread < hot_connections:
                return hot, target
            return ordinary[next(ordinary_turns) % len(ordinary)], target

        from django.utils import timezone

        since = timezone.now() - dt.timedelta(seconds=1)
        started = time.monotonic()
        outcomes = run_lookups(
            args.port,
            data.keys,
            data.targets,
            concurrency=args.concurrency,
            total=args.requests,
            pick=pick,
            polite=lambda thread: thread < hot_connections,  # honours Retry-After
        )
        elapsed = time.monotonic() - started

        report.section("responses")
        statuses = Counter(o.status for o in outcomes)
        latencies = [(o.finished - o.started) * 1000 for o in outcomes]
        report.figure("lookups made", len(outcomes))
        report.figure("time", f"{elapsed:.1f} s")
        report.figure("throughput", f"{len(outcomes) / elapsed:.0f} lookups/s")
        report.figure(
            "latency p50 / p95 / p99",
            " / ".join(f"{percentile(latencies, p):.1f}" for p in (0.5, 0.95, 0.99)) + " ms",
        )
        report.figure("by status", ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
        report.promise("every lookup was made", len(outcomes) == args.requests)
        check_errors(report, outcomes)

        report.section("rate limit")
        check_rate_limit(report, outcomes, hot.api_key, args.rate_limit)

        report.section("LockEvents")
        codes = codes_by_key_and_serial(outcomes)
        events = code_lookups_by_key_and_serial(since)
        report.figure("codes returned", sum(codes.values()))
        report.figure("LockEvents 'code looked up'", sum(events.values()))
        report.figure("(key, lock) pairs", len(codes))
        different = {
            pair: (codes.get(pair, 0), events.get(pair, 0))
            for pair in codes.keys() | events.keys()
            if codes.get(pair, 0) != events.get(pair, 0)
        }
        report.promise(
            "exactly one LockEvent per code returned, for every key and lock",
            not different,
            f"{len(different)} pairs differ, e.g. {list(different.items())[:3]}",
        )

        report.section("gunicorn")
        lines = server.request_lines()
        report.figure("request log lines", len(lines))
        report.promise(
            "still up; no 5xx in the request log; no traceback",
            server.alive()
            and not any(line.get("status", 0) >= 500 for line in lines)
            and "Traceback" not in server.log_text(),
            server.log_tail(5),
        )
        report.promise(
            "the log names keys by public id and never holds a secret",
            {line.get("api_key") for line in lines} >= {k.api_key for k in data.keys}
            and not any(k.secret in server.log_text() for k in data.keys),
        )
    report.finish()


def check_errors(report: Report, outcomes: list[Outcome]) -> None:
    errors = [
        o
        for o in outcomes
        if not (o.status == 200 or (o.status == 429 and o.error_code == "rate_limited"))
    ]
    report.figure("errors other than 429 rate_limited", len(errors))
    report.promise(
        "zero errors other than the intended 429s",
        not errors,
        str([(o.status, o.error_code, o.problem[:80]) for o in errors[:5]]),
    )
    ok = [o for o in outcomes if o.status == 200]
    report.promise(
        "every 200 is JSON with the unlock code of the lock asked for",
        all(o.json_body and o.code_returned and not o.problem for o in ok),
    )
    limited = [o for o in outcomes if o.status == 429]
    report.promise(
        "every 429 is JSON rate_limited with Retry-After",
        all(o.json_body and o.retry_after and o.error_code == "rate_limited" for o in limited),
    )


def check_rate_limit(report: Report, outcomes: list[Outcome], hot_key: str, limit: int) -> None:
    """Per key and calendar minute (the limiter's window). A request is in window w when it
    started and finished in it; one that straddled two windows counts as uncertain."""
    accepted: dict[tuple[str, int], int] = defaultdict(int)
    refused: dict[tuple[str, int], int] = defaultdict(int)
    uncertain: dict[tuple[str, int], int] = defaultdict(int)
    for o in outcomes:
        first, last = int(o.started // 60), int(o.finished // 60)
        if first != last:
            uncertain[(o.key, first)] += 1
            uncertain[(o.key, last)] += 1
        elif o.status == 200:
            accepted[(o.key, first)] += 1
        elif o.status == 429:
            refused[(o.key, first)] += 1
    hot_refused = sum(n for (key, _), n in refused.items() if key == hot_key)
    others_refused = sum(n for (key, _), n in refused.items() if key != hot_key)
    over = {w: n for w, n in accepted.items() if n > limit}
    early = {
        w: accepted[w]
        for w in refused
        if refused[w] and accepted[w] + uncertain[w] < limit  # refused with room left
    }
    report.figure(
        "hot key: accepted / refused",
        f"{sum(n for (k, _), n in accepted.items() if k == hot_key)} / {hot_refused}",
    )
    report.figure(
        "hot key: accepted per minute",
        ", ".join(str(n) for (k, _), n in sorted(accepted.items()) if k == hot_key),
    )
    report.figure("other keys: refused", others_refused)
    report.promise(
        "the hot key went over its limit and was refused (the intended 429s)", hot_refused > 0
    )
    report.promise("no key had more than the limit accepted in a minute", not over, str(over))
    report.promise("no request was refused while its key's minute had room", not early, str(early))
    report.promise("the other keys, under the limit, were never refused", others_refused == 0)

    # Retry-After tells the truth: a hot request sent once it has passed is served again.
    hot = [o for o in outcomes if o.key == hot_key]
    refusals = [o for o in hot if o.status == 429 and o.retry_after_seconds]
    if refusals:
        first = refusals[0]
        after = [o for o in hot if o.started >= first.finished + first.retry_after_seconds]
        if after:
            report.promise(
                "once Retry-After has passed, the hot key is served again",
                after[0].status == 200,
                f"{after[0].status} {after[0].error_code}",
            )
        else:
            report.figure("Retry-After checked", "no (the run ended before it passed)")


if __name__ == "__main__":
    main()
