"""The owners' day-to-day screens, one module per thing shown: facilities.py (the list, a
facility's units and locks), units.py (a unit, the top search), locks.py (a lock and its
actions), imports.py (CSV import and export).

Every view reads through `for_membership()` (another account's object, or a facility outside
the member's access, is a 404), and every change goes through facilities.services, which
writes the LockEvent.
"""
