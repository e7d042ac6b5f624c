"""Timing tests: whether two kinds of request take the same time. Each kind is sampled many
times, interleaved (A B, B A, A B, ...) so a slow moment of the machine hits both alike, and
the medians are compared: one request proves nothing."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from django.core.mail.backends.locmem import EmailBackend

# What a real mail server costs a send; a difference this big cannot hide in the noise.
SEND_SECONDS = 0.05


class SlowEmailBackend(EmailBackend):
    """The test outbox (mail.outbox), as slow as a mail server."""

    def send_messages(self, messages):
        time.sleep(SEND_SECONDS)
        return super().send_messages(messages)


def interleaved_medians(
    cases: dict[str, Callable[[], object]],
    *,
    rounds: int = 12,
    between: Callable[[], None] = lambda: None,
) -> dict[str, float]:
    """The median seconds of each case over `rounds` interleaved samples; `between` runs
    after each sample, outside the timing (e.g. waiting for work left in the background)."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for round_number in range(rounds):
        order = names if round_number % 2 == 0 else names[::-1]
        for name in order:
            started = time.perf_counter()
            cases[name]()
            samples[name].append(time.perf_counter() - started)
            between()
    return {name: statistics.median(values) for name, values in samples.items()}
