from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


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


class Account(models.Model):
    """A self-storage company: the tenant boundary of every other object."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    CALL_CENTER = "call_center", "Call center"


# Who may do what: the one list each, used by the views' decorators and the templates alike.
MANAGES_INTEGRATIONS = (Role.OWNER, Role.ADMIN)
EDITS_FACILITIES = (Role.OWNER, Role.ADMIN, Role.MANAGER)
SEES_LOCK_LIMIT = (Role.OWNER, Role.ADMIN)


class MembershipQuerySet(models.QuerySet["Membership"]):
    def for_account(self, account: Account) -> MembershipQuerySet:
        return self.filter(account=account)


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["account__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account"], name="membership_one_per_user_and_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.account} ({self.get_role_display()})"

    @property
    def manages_integrations(self) -> bool:
        """Owners and admins manage API keys and the Include-in-API toggles."""
        return self.role in MANAGES_INTEGRATIONS

    @property
    def edits_facilities(self) -> bool:
        return self.role in EDITS_FACILITIES

    @property
    def sees_lock_limit(self) -> bool:
        """Owners and admins see the account's total of locks counting towards the limit."""
        return self.role in SEES_LOCK_LIMIT
