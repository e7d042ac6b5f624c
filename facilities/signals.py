"""Signals the facilities app sends, so that apps above it hear of a change without facilities
importing them (tests/core/test_dependencies.py).

`lock_events_recorded` is sent by facilities/history.py each time lines are appended to lock
histories, inside the transaction that appends them, with `events`: the LockEvent rows just
written (one for `lock_event_record`, many for the CSV import). A receiver that writes rows
writes them in that same transaction, so a change that is rolled back leaves nothing of
theirs either. Receivers must be quick: they run inside the request that made the change.
"""

from django.dispatch import Signal

lock_events_recorded = Signal()
