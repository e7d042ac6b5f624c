"""A lock's history: LockEvent rows, only ever appended. Every change and every disclosure of
an unlock code (portal reveal, API lookup, tenant notice) writes its line through here.

`Actor` says who acts on a lock: a portal user, an API key or an automation rule, with the
address the request came from. The services that change a lock or send its code take one and
write it into the LockEvent (`Actor.event_fields`), so a caller of another kind needs no
change to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Model

from facilities.models import Lock, LockEvent, Unit
from facilities.signals import lock_events_recorded

if TYPE_CHECKING:
    from davinci.accounts.models import User


@dataclass(frozen=True)
class Actor:
    """Who changes a lock or has its code sent, as its LockEvents name them. Build one with
    `Actor.for_user`, `Actor.for_api_key` or `Actor.for_automation`."""

    type: LockEvent.Actor
    user: User | None = None
    api_key: Model | None = None  # an integrations.ApiKey (facilities sits below it)
    ip: str | None = None
    # An automation rule ("Automations") has no column of its own in LockEvent: its
    # id and name go in the event's details.
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_user(cls, user: User, *, ip: str | None) -> Actor:
        """A member signed in to the portal, from `ip`."""
        return cls(LockEvent.Actor.USER, user=user, ip=ip)

    @classmethod
    def for_api_key(cls, api_key: Model, *, ip: str | None) -> Actor:
        """A request of the API authenticated by `api_key`, from `ip`."""
        return cls(LockEvent.Actor.API_KEY, api_key=api_key, ip=ip)

    @classmethod
    def for_automation(cls, *, automation_id: int, name: str) -> Actor:
        """An automation rule acting on an FMS event (no request, so no address)."""
        return cls(
            LockEvent.Actor.AUTOMATION, details={"automation_id": automation_id, "automation": name}
        )

    def event_fields(self) -> dict[str, Any]:
        """The keyword arguments of `lock_event_record` that name this actor."""
        return {"actor_type": self.type, "user": self.user, "api_key": self.api_key, "ip": self.ip}

    def to_ids(self) -> dict[str, int | str]:
        """Plain values for a queued notice (davinci.outbox carries ids only)."""
        return {
            "actor_type": self.type.value,
            "actor_user_id": self.user.pk if self.user else 0,
            "actor_key_id": self.api_key.pk if self.api_key else 0,
            "automation_id": self.details.get("automation_id", 0),
            "automation": self.details.get("automation", ""),
            "ip": self.ip or "",
        }

    @classmethod
    def from_ids(
        cls,
        *,
        actor_type: str,
        actor_user_id: int = 0,
        actor_key_id: int = 0,
        automation_id: int = 0,
        automation: str = "",
        ip: str = "",
    ) -> Actor:
        """The actor `to_ids` wrote, its user or key loaded again."""
        kind = LockEvent.Actor(actor_type)
        if kind == LockEvent.Actor.AUTOMATION:
            return cls.for_automation(automation_id=automation_id, name=automation)
        user = get_user_model().objects.get(pk=actor_user_id) if actor_user_id else None
        api_key = None
        if actor_key_id:
            api_key = LockEvent._meta.get_field("api_key").related_model.objects.get(
                pk=actor_key_id
            )
        return cls(kind, user=user, api_key=api_key, ip=ip or None)


def lock_event_record(
    *,
    lock: Lock,
    kind: LockEvent.Kind,
    actor_type: LockEvent.Actor,
    user: User | None = None,
    api_key: Model | None = None,  # an integrations.ApiKey
    unit: Unit | None = None,
    from_status: str = "",
    to_status: str = "",
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> LockEvent:
    """Append one line to a lock's history.

    Every disclosure of an unlock code (portal reveal, API lookup, tenant-page send) calls
    this inside the same transaction as the read, so no code leaves without its record.
    Receivers of `facilities.signals.lock_events_recorded` hear of it in that transaction.
    """
    event = LockEvent.objects.create(
        lock=lock,
        kind=kind,
        actor_type=actor_type,
        actor_user=user,
        api_key=api_key,
        unit=unit,
        from_status=from_status,
        to_status=to_status,
        ip=ip,
        details=details or {},
    )
    lock_events_recorded.send(sender=LockEvent, events=[event])
    return event


def lock_event_by(
    actor: Actor,
    *,
    lock: Lock,
    kind: LockEvent.Kind,
    unit: Unit | None = None,
    from_status: str = "",
    to_status: str = "",
    details: dict[str, Any] | None = None,
) -> LockEvent:
    """`lock_event_record` for what `actor` did (its details first, the event's after)."""
    return lock_event_record(
        lock=lock,
        kind=kind,
        **actor.event_fields(),
        unit=unit,
        from_status=from_status,
        to_status=to_status,
        details={**actor.details, **(details or {})},
    )


def lock_events_record_many(*, events: list[LockEvent]) -> list[LockEvent]:
    """Append many history lines in a few INSERTs (CSV import). Rows are only ever added."""
    for event in events:
        if event.pk is not None:
            raise TypeError("Lock events are append-only.")
    created = LockEvent.objects.bulk_create(events, batch_size=500)
    lock_events_recorded.send(sender=LockEvent, events=created)
    return created
