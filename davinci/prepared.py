"""Querysets compiled once per process, for the few hot paths where building SQL costs more
than running it (the lookup API).

`PreparedQuery(build)` calls `build(**sentinels)` once per database and shape, compiles the
queryset Django builds, and remembers where each sentinel landed among the SQL parameters.
Each call then runs the same SQL with the real values in those places, and Django's own
converters turn the rows into Python values. The queryset — and so every rule it encodes, such
as the API scope in `Facility.objects.in_api_scope()` — stays the single source of the SQL.

Only values that are SQL parameters may vary between calls. Anything that changes the shape of
the query (a boolean that adds a join, say) must be part of `shape`, which compiles a variant
of its own. Compilation fails loudly if a sentinel comes out as more than one parameter or
inside the SQL text, so a value can never be baked into the cached SQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler


class Sentinel(str):
    """A unique placeholder value; a str subclass so string lookups accept it."""


SENTINEL_INT_BASE = -7_318_000_000_000_000


@dataclass(frozen=True)
class _Compiled:
    compiler: SQLCompiler
    sql: str
    params: tuple[Any, ...]
    slots: tuple[str | None, ...]  # for each parameter: the name it takes, or None (constant)


class PreparedQuery:
    def __init__(
        self,
        build: Callable[..., QuerySet],
        *,
        text: tuple[str, ...] = (),
        integers: tuple[str, ...] = (),
    ) -> None:
        """`build(**values)` returns the queryset; `text` and `integers` name its variable
        values (strings and integers)."""
        self.build = build
        self.sentinels: dict[str, Any] = {
            name: Sentinel(f"\x00prepared:{name}\x00") for name in text
        } | {name: SENTINEL_INT_BASE - index for index, name in enumerate(integers)}
        self._compiled: dict[tuple[str, Hashable, int], _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str, shape: Hashable, shape_kwargs: dict[str, Any]) -> _Compiled:
        queryset = self.build(**self.sentinels, **shape_kwargs).using(alias)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        by_value = {value: name for name, value in self.sentinels.items()}
        slots = tuple(
            by_value.get(param) if isinstance(param, str | int) else None for param in params
        )
        for name, value in self.sentinels.items():
            # A value may be unused by this shape, but never repeated or written into the SQL
            # text itself: then the cached SQL would only be right for the sentinel.
            if slots.count(name) > 1 or str(value).strip("\x00") in sql:
                raise ValueError(f"{name!r} must be at most one SQL parameter of {sql!r}.")
        for param, slot in zip(params, slots, strict=True):
            # A lookup that rewrites its value (icontains adds %…%) would cache it as a constant.
            if slot is None and isinstance(param, str) and "\x00prepared:" in param:
                raise ValueError(f"A value is rewritten by its lookup ({param!r}): use exact.")
        return _Compiled(compiler, sql, tuple(params), slots)

    def rows(
        self,
        *,
        using: str = "default",
        shape: Hashable = None,
        shape_kwargs: dict[str, Any] | None = None,
        **values: Any,
    ) -> list[tuple]:
        """Every row, as the queryset's `values_list()` would give it."""
        # Per thread too: a compiler holds the connection of the thread that built it.
        key = (using, shape, threading.get_ident())
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(
                    using, shape, shape_kwargs or {}
                )
                self._compiled[key] = compiled
        params = [
            values[slot] if slot is not None else param
            for param, slot in zip(compiled.params, compiled.slots, strict=True)
        ]
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        return list(compiled.compiler.results_iter([fetched], tuple_expected=True))

    def first(self, **kwargs: Any) -> tuple | None:
        rows = self.rows(**kwargs)
        return rows[0] if rows else None
