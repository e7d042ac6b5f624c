from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, tzinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.models import Device, TimestampMixin

from davinci.accounts import permissions
from davinci.accounts.permissions import Role
from davinci.when import validate_time_zone, zone

SESSION_HASH_SALT = "davinci.accounts.User.get_session_auth_hash"
HISTORY_RETENTION_MIN_MONTHS = 12
HISTORY_RETENTION_MAX_MONTHS = 120


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        # Email addresses are stored lower-cased, so sign-in is case-insensitive.
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can sign in to the Django admin (platform staff)."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Part of every session's auth hash: bumping it ends every session but the one that
    # is handed the new hash ("Sign out every other session").
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email

    def audit_target(self) -> tuple[str, str, str]:
        return "user", str(self.pk), self.email

    # Django checks these on every request of a session (django.contrib.auth.get_user): the
    # password hash as Django's own, plus session_generation.
    def get_session_auth_hash(self) -> str:
        return self._session_hash(secret=None)

    def get_session_auth_fallback_hash(self):
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=secret)

    def _session_hash(self, *, secret: str | None) -> str:
        value = f"{self.password}:{self.session_generation}"
        return salted_hmac(SESSION_HASH_SALT, value, secret=secret, algorithm="sha256").hexdigest()


class Account(models.Model):
    """A self-storage company: the tenant boundary of every other object."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    two_factor_required = models.BooleanField(
        "Require two-factor authentication",
        default=False,
        # In the database too: code (and migrations of other apps) that predate the column
        # can still insert accounts.
        db_default=False,
        help_text="On: a member without two-factor is taken to set it up at their next "
        "request and can do nothing else until then.",
    )
    # Every time the portal and its emails show is in this zone (davinci/when.py).
    time_zone = models.CharField(
        max_length=64, default="UTC", db_default="UTC", validators=[validate_time_zone]
    )
    # LockEvents and AuditEvents older than this are archived, then removed
    # (facilities/retention.py).
    history_retention_months = models.PositiveSmallIntegerField(
        "History retention (months)",
        default=24,
        db_default=24,
        validators=[
            MinValueValidator(HISTORY_RETENTION_MIN_MONTHS),
            MaxValueValidator(HISTORY_RETENTION_MAX_MONTHS),
        ],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zoneinfo(self) -> tzinfo:
        return zone(self.time_zone)


# An invitation not accepted within this many days is gone: it grants nothing, Team no longer
# lists it, and the beat's hourly clean-up (team/tasks.py) deletes it.
INVITATION_DAYS = 14


def invitation_cutoff() -> datetime:
    """Invitations sent before this moment have expired."""
    return timezone.now() - timedelta(days=INVITATION_DAYS)


def _expired() -> Q:
    return Q(accepted_at__isnull=True) & (
        Q(invited_at__isnull=True) | Q(invited_at__lt=invitation_cutoff())
    )


class MembershipQuerySet(models.QuerySet["Membership"]):
    def for_account(self, account: Account) -> MembershipQuerySet:
        return self.filter(account=account)

    def accepted(self) -> MembershipQuerySet:
        """Memberships their user said yes to: the only ones that grant anything."""
        return self.filter(accepted_at__isnull=False)

    def active(self) -> MembershipQuerySet:
        """Accepted, active, of an active user: the memberships that work."""
        return self.accepted().filter(is_active=True, user__is_active=True)

    def invitations(self) -> MembershipQuerySet:
        """Invited, not accepted yet, not expired."""
        return self.filter(accepted_at__isnull=True, invited_at__gte=invitation_cutoff())

    def expired_invitations(self) -> MembershipQuerySet:
        return self.filter(_expired())

    def current(self) -> MembershipQuerySet:
        """Everything but expired invitations (which count as gone, clean-up or not)."""
        return self.exclude(_expired())

    def visible_to(self, viewer: Membership) -> MembershipQuerySet:
        """The members `viewer` sees on Team: everyone of the account for a member with All
        Facilities; otherwise those whose facility access lies within the viewer's own (a
        list of other people's facilities would show facilities the viewer cannot see)."""
        members = self.filter(account_id=viewer.account_id)
        if viewer.all_facilities:
            return members
        facility_model = self.model._meta.get_field("facilities").related_model
        outside = (
            facility_model.objects.filter(account_id=viewer.account_id)
            .exclude(memberships=viewer)
            .values("pk")
        )
        return members.filter(all_facilities=False).exclude(facilities__in=outside)


class Membership(models.Model):
    """A user's place in one account: their role, which facilities they see, and whether
    they may use the account at all.

    A membership is *accepted* or *invited*. Team's Add User makes an invitation (accepted_at
    empty): it grants nothing, and Team sees only the address typed, until the person says yes
    while signed in as themselves (or, for a new user, sets their password through the
    invitation's link). Memberships that platform staff make (the admin, seed_demo) are
    accepted as made."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    all_facilities = models.BooleanField(
        "All Facilities",
        default=True,
        help_text="On: every facility of the account, including ones added later. "
        "Off: only the facilities chosen.",
    )
    facilities = models.ManyToManyField(
        "facilities.Facility", blank=True, related_name="memberships"
    )
    is_active = models.BooleanField(
        "active", default=True, help_text="Off: the user cannot use this account."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(
        "accepted",
        null=True,
        blank=True,
        default=timezone.now,
        help_text="Empty: invited, not accepted yet (the membership grants nothing).",
    )
    # What the inviter typed, and when the latest invitation went out (it expires
    # INVITATION_DAYS later): all Team shows of an invited person.
    invited_email = models.EmailField(blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["account__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account"], name="membership_one_per_user_and_account"
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(role="owner"),
                name="membership_one_owner_per_account",
                violation_error_message="An account has exactly one owner.",
            ),
            models.CheckConstraint(
                condition=~Q(role="owner") | Q(all_facilities=True),
                name="membership_owner_has_all_facilities",
                violation_error_message="The owner has access to All Facilities.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.account} ({self.get_role_display()})"

    # --- Team: who may edit whom (the rules: davinci/accounts/permissions.py) ---------------

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    def edit_refusal(self, member: Membership) -> str | None:
        """Why this member may not edit `member` on Team (another account's member, or a
        role the rules do not let them edit), or None if they may."""
        if member.account_id != self.account_id or not permissions.can_manage_users(self.role):
            return "Only the owner and Client Admins manage the team."
        if not permissions.can_edit_member(self.role, member.role):
            return f"A {self.get_role_display()} edits non-admin users only."
        return None

    def facility_access_error(
        self, *, all_facilities: bool, facilities
    ) -> tuple[str, ValidationError] | None:
        """(field, error) when this member may not give that facility access: nobody grants
        wider access than their own."""
        if not all_facilities and not facilities:
            return "facilities", ValidationError(
                "Select at least one facility, or turn on All Facilities.", code="no_facilities"
            )
        if self.all_facilities:
            return None
        if all_facilities:
            return "all_facilities", ValidationError(
                "You can only give access to your own facilities: turn off All Facilities "
                "and select them.",
                code="access_too_wide",
            )
        own = set(self.facilities.values_list("pk", flat=True))
        if any(facility.pk not in own for facility in facilities):
            return "facilities", ValidationError(
                "One of the facilities is outside your own facility access.",
                code="outside_access",
            )
        return None

    # --- Invitations ----------------------------------------------------------------------

    @property
    def is_invited(self) -> bool:
        """Not accepted yet: the membership grants nothing."""
        return self.accepted_at is None

    @property
    def invitation_expires_at(self) -> datetime | None:
        if not self.is_invited:
            return None
        return (self.invited_at or self.created_at) + timedelta(days=INVITATION_DAYS)

    @property
    def invitation_pending(self) -> bool:
        """The user has no password yet (a new user, invited with a link to set one)."""
        return not self.user.has_usable_password()

    def _others(self) -> MembershipQuerySet:
        return Membership.objects.filter(user_id=self.user_id).exclude(pk=self.pk)

    def invites_new_user(self) -> bool:
        """An invitation that made its user: no password, no other account, no staff. Team
        keeps what it typed (name, email) editable until the person sets their password."""
        return (
            self.is_invited
            and self.invitation_pending
            and not self.user.is_staff
            and not self._others().exists()
        )

    def hides_person(self) -> bool:
        """Team sees nothing of this member but the address typed: an invitation to someone
        who already has a user of their own (another account's, or platform staff)."""
        return self.is_invited and not self.invites_new_user()

    @property
    def email_shown(self) -> str:
        """The address Team shows: the one typed while invited, the user's once accepted."""
        return (self.invited_email or self.user.email) if self.is_invited else self.user.email

    def audit_target(self) -> tuple[str, str, str]:
        """The member's user in the Activity log, named as Team shows them."""
        return "user", str(self.user_id), self.email_shown

    def identity_editable_by_team(self) -> bool:
        """Team may rename a user who belongs to this account only (a user of several
        accounts is theirs to rename under Your account). Invitations elsewhere do not
        count: the other account sees nothing of the user until they accept."""
        if self.user.is_staff or self.hides_person():
            return False
        return not self._others().accepted().exists()

    def email_editable_by_team(self) -> bool:
        """Team may correct the address of a pending invitation of a user it made (the
        invitation goes to the new address); once the user set a password, only they
        change it."""
        return self.invitation_pending and not self.user.is_staff and not self._others().exists()

    def two_factor_reset_refusal(self) -> str | None:
        """Why Team may not reset this member's two-factor, or None if it may: only a user
        whose one active membership is this account, and who is not platform staff (whose
        two-factor only other staff reset, in the admin). What to do instead is part of the
        answer."""
        email = self.email_shown
        if self.is_invited:
            return (
                f"{email} has not accepted the invitation: nothing of their sign-in is "
                "this account's to change."
            )
        if not (self.is_active and self.user.is_active):
            return f"{email} is Inactive: set them Active first."
        if self.user.is_staff:
            return (
                f"{email} is platform staff: their two-factor is reset only by other staff, "
                "in the admin."
            )
        if Membership.objects.active().filter(user_id=self.user_id).exclude(pk=self.pk).exists():
            return (
                f"{email} also uses other accounts, so their two-factor is not this account's "
                "to reset. They can sign in with one of their recovery codes (or a passkey) "
                "and set it up again under Your account; with none left, platform support "
                "resets it."
            )
        return None


# --- Two-factor: recovery codes (docs/two-factor.md) -------------------------------------------


def recovery_code_digest(code: str) -> str:
    """What is stored of a recovery code: its SHA-256, of the code as typed without spaces,
    dashes or case. A code carries 80 random bits, so a digest without salt or stretching
    gives nothing to guess from (the same reasoning as API secrets)."""
    normalized = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(normalized.encode()).hexdigest()


class RecoveryCodeDevice(TimestampMixin, Device):
    """The user's ten single-use recovery codes as one django-otp device: each code works
    once (its row is deleted when used). Only digests are stored; the codes are shown once,
    when they are made. Wrong codes are throttled where they are typed, per user and IP
    (davinci/accounts/throttle.py), like passwords."""

    def verify_token(self, token) -> bool:
        if not isinstance(token, str):
            return False
        deleted, _ = self.codes.filter(digest=recovery_code_digest(token)).delete()
        if deleted:
            self.set_last_used_timestamp()
        return bool(deleted)


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, db_index=True)

    def __str__(self) -> str:
        return "recovery code"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """The Activity log is append-only: rows leave only through history retention, which
    archives them first (facilities/retention.py)."""

    def for_account(self, account: Account) -> AuditEventQuerySet:
        return self.filter(account=account)

    def delete(self):
        raise TypeError("Audit events are append-only.")


class AuditEvent(models.Model):
    """Who did what in an account, and from where: its API keys and facilities in the API
    (integrations), its team, its members' sign-in. The account's Activity log."""

    class Action(models.TextChoices):
        KEY_CREATED = "key_created", "API key created"
        KEY_EDITED = "key_edited", "API key edited"
        KEY_REVEALED = "key_revealed", "API secret revealed"
        KEY_DISABLED = "key_disabled", "API key disabled"
        KEY_ENABLED = "key_enabled", "API key enabled"
        KEY_ROLLED = "key_rolled", "API secret rolled"
        KEY_DELETED = "key_deleted", "API key deleted"
        FACILITY_INCLUDED = "facility_included", "Facility included in API"
        FACILITY_EXCLUDED = "facility_excluded", "Facility excluded from API"
        SIGN_IN_THROTTLED = "sign_in_throttled", "Sign-in blocked after failed attempts"
        MEMBER_ADDED = "member_added", "User added"
        MEMBER_EDITED = "member_edited", "User edited"
        MEMBER_DEACTIVATED = "member_deactivated", "User set Inactive"
        MEMBER_REACTIVATED = "member_reactivated", "User set Active"
        MEMBER_INVITED_AGAIN = "member_invited_again", "Invitation sent again"
        INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
        INVITATION_DECLINED = "invitation_declined", "Invitation declined"
        INVITATION_WITHDRAWN = "invitation_withdrawn", "Invitation withdrawn"
        INVITATION_EXPIRED = "invitation_expired", "Invitation expired"
        OWNERSHIP_TRANSFERRED = "ownership_transferred", "Ownership handed over"
        TWO_FACTOR_ENABLED = "two_factor_enabled", "Two-factor turned on"
        TWO_FACTOR_DISABLED = "two_factor_disabled", "Two-factor turned off"
        TWO_FACTOR_RESET = "two_factor_reset", "Two-factor reset for a user"
        RECOVERY_CODE_USED = "recovery_code_used", "Recovery code used to sign in"
        RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated", "New recovery codes made"
        PASSKEY_ADDED = "passkey_added", "Passkey added"
        PASSKEY_REMOVED = "passkey_removed", "Passkey removed"
        TWO_FACTOR_POLICY_CHANGED = "two_factor_policy_changed", "Two-factor requirement changed"
        HISTORY_RETENTION_CHANGED = "history_retention_changed", "History retention changed"
        HISTORY_ARCHIVED = "history_archived", "Old history archived and removed"
        HISTORY_ARCHIVE_DOWNLOADED = "history_archive_downloaded", "History archive downloaded"
        REPORT_DOWNLOADED = "report_downloaded", "Report downloaded"
        HISTORY_EXPORTED = "history_exported", "Audit export downloaded"
        WEBHOOK_CREATED = "webhook_created", "Webhook endpoint added"
        WEBHOOK_EDITED = "webhook_edited", "Webhook endpoint edited"
        WEBHOOK_REVEALED = "webhook_revealed", "Webhook signing secret shown"
        WEBHOOK_ROLLED = "webhook_rolled", "Webhook signing secret rolled"
        WEBHOOK_DISABLED = "webhook_disabled", "Webhook endpoint disabled"
        WEBHOOK_ENABLED = "webhook_enabled", "Webhook endpoint enabled"
        WEBHOOK_DELETED = "webhook_deleted", "Webhook endpoint deleted"
        RULE_CREATED = "rule_created", "Automation rule added"
        RULE_EDITED = "rule_edited", "Automation rule edited"
        RULE_ENABLED = "rule_enabled", "Automation rule turned on"
        RULE_DISABLED = "rule_disabled", "Automation rule turned off"
        RULE_MOVED = "rule_moved", "Automation rule moved"
        RULE_DELETED = "rule_deleted", "Automation rule deleted"
        PAYMENTS_UPLOADED = "payments_uploaded", "Payments uploaded for automations"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=40, choices=Action.choices)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="auditevent_account_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.target_repr}"
