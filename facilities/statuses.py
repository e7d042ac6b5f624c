"""The statuses of a lock, as DaVinci Lock's help center defines them (docs/lock-statuses.md):
their labels, which keep a unit, and which count towards the lock limit. Models, querysets and
forms all read them from here. Whose code is withheld from whom is a permission:
davinci/accounts/permissions.py."""

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

# What each status means, in DaVinci Lock's words (the API documentation shows them).
STATUS_MEANINGS = {
    LockStatus.AVAILABLE: "in stock, ready to be assigned; setting a lock Available takes it "
    "off its unit",
    LockStatus.ASSIGNED_VACANT: "securing a vacant unit",
    LockStatus.ASSIGNED_OVERLOCK: "securing a delinquent tenant's unit",
    LockStatus.TENANT_USING_LOCK: "the tenant uses it as their own lock",
    LockStatus.ASSIGNED_AUCTION: "securing a unit being auctioned; its code is withheld",
    LockStatus.ASSIGNED_OTHER: "used in another capacity",
    LockStatus.ASSIGNED_VENDOR: "used by a vendor",
    LockStatus.RETURNED_TO_DROPBOX: "the overlock is released: the tenant has paid and the lock "
    "goes to the drop box; it keeps its unit and its code until staff set it Available",
    LockStatus.ON_DROPBOX: "securing the facility's drop box",
    LockStatus.DAMAGED: "out of use",
    LockStatus.LOST: "out of use",
    LockStatus.SOLD: "out of use",
    LockStatus.UNSCANNABLE: "out of use",
}
