"""The statuses of a lock, as DaVinci Lock's help center defines them (DESIGN.md, "Lock
statuses"): their labels, which keep a unit, which count towards the lock limit, and whose code
is withheld. Models, querysets and forms all read them from here."""

from django.db import models


class LockStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    ASSIGNED_VACANT = "assigned_vacant", "Assigned Vacant"
    ASSIGNED_OVERLOCK = "assigned_overlock", "Assigned Overlock"
    TENANT_USING_LOCK = "tenant_using_lock", "Tenant Using Lock"
    ASSIGNED_AUCTION = "assigned_auction", "Assigned Auction"
    ASSIGNED_OTHER = "assigned_other", "Assigned Other"
    ASSIGNED_VENDOR = "assigned_vendor", "Assigned Vendor"
    RETURNED_TO_DROPBOX = "returned_to_dropbox", "Returned to Dropbox"
    ON_DROPBOX = "on_dropbox", "On Dropbox"
    DAMAGED = "damaged", "Damaged"
    LOST = "lost", "Lost"
    SOLD = "sold", "Sold"
    UNSCANNABLE = "unscannable", "Unscannable"


# Statuses in which a lock's record names a unit: the one whose door it is on, or was on
# until someone sets it Available (Returned to Dropbox keeps its unit, so a call center
# looking the unit up still gets the code its paid tenant needs).
UNIT_STATUSES = frozenset(
    {
        LockStatus.ASSIGNED_VACANT,
        LockStatus.ASSIGNED_OVERLOCK,
        LockStatus.TENANT_USING_LOCK,
        LockStatus.ASSIGNED_AUCTION,
        LockStatus.ASSIGNED_OTHER,
        LockStatus.ASSIGNED_VENDOR,
        LockStatus.RETURNED_TO_DROPBOX,
    }
)
# Statuses that count towards the account's lock limit (DaVinci bills per lock in use): every
# status on a unit, and On Dropbox. The code of a lock may change only in a status that does
# not count.
LIMIT_STATUSES = UNIT_STATUSES | {LockStatus.ON_DROPBOX}
# The code of a lock on a unit being auctioned is withheld from the API and call centers.
WITHHELD_STATUSES = frozenset({LockStatus.ASSIGNED_AUCTION})
