from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.http import HttpRequest

from davinci.accounts.models import Account, AuditEvent, Membership, User
from davinci.accounts.two_factor.services import two_factor_reset
from davinci.admin import RecordAdmin
from davinci.net import client_ip


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "account"]
    # Chosen facilities are edited on the membership's own page (or, better, on Team).
    fields = ["user", "account", "role", "all_facilities", "is_active", "accepted_at"]


class PortalUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class PortalUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "last_login", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "memberships__role"]
    search_fields = ["email", "name"]
    inlines = [MembershipInline]
    actions = ["reset_two_factor"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),
    )

    @admin.action(description="Reset two-factor of the selected users (they lost every factor)")
    def reset_two_factor(self, request: HttpRequest, queryset) -> None:
        """Through the service: audited in each of their accounts, each user emailed. Staff's
        two-factor is reset only by another staff member: never one's own here (a session
        that got into the admin must not be able to drop the factor that guards it)."""
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(
                request,
                "Your own two-factor is reset by another staff member (or turned off under "
                "Your account, with your second factor): nothing was reset.",
                messages.ERROR,
            )
            return
        done = sum(
            two_factor_reset(user=user, actor=request.user, ip=client_ip(request))
            for user in queryset
        )
        self.message_user(request, f"Two-factor reset for {done} user(s).", messages.SUCCESS)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "account",
        "role",
        "all_facilities",
        "is_active",
        "accepted_at",
        "created_at",
    ]
    list_filter = ["role", "is_active", "all_facilities", "account"]
    search_fields = ["user__email", "account__name"]
    # Facilities of another account would never show: for_membership() filters the account.
    autocomplete_fields = ["user", "account", "facilities"]
    list_select_related = ["user", "account"]


@admin.register(AuditEvent)
class AuditEventAdmin(RecordAdmin):
    list_display = ["created_at", "account", "actor", "action", "target_repr", "ip"]
    list_filter = ["action", "account"]
    search_fields = ["target_repr", "actor__email", "account__name"]
    list_select_related = ["account", "actor"]
    date_hierarchy = "created_at"
