from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from davinci.net import client_ip
from integrations import services
from integrations.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Platform staff see keys with the secret masked, and can disable them. Keys are created
    in the portal or with `manage.py create_api_key`, never here, and every change goes
    through integrations.services so it is audited."""

    list_display = [
        "name",
        "api_key",
        "masked_secret",
        "account",
        "all_facilities",
        "is_active",
        "expires_at",
        "created_at",
        "last_used_at",
        "deleted_at",
    ]
    list_filter = ["is_active", "all_facilities", "account"]
    search_fields = ["name", "api_key", "account__name"]
    list_select_related = ["account"]
    actions = ["disable_selected_keys"]
    # Only digest and ciphertext exist, and both stay out of the admin entirely.
    fields = [
        "account",
        "name",
        "api_key",
        "masked_secret",
        "all_facilities",
        "facility_names",
        "is_active",
        "expires_at",
        "allowed_ips",
        "created_at",
        "created_by",
        "disabled_at",
        "disabled_by",
        "deleted_at",
        "deleted_by",
        "last_used_at",
        "last_used_ip",
    ]
    readonly_fields = fields

    @admin.display(description="API Secret")
    def masked_secret(self, obj: ApiKey) -> str:
        return obj.masked_secret

    @admin.display(description="Facilities")
    def facility_names(self, obj: ApiKey) -> str:
        if obj.all_facilities:
            return "All Facilities"
        return ", ".join(f"{f.name} ({f.facility_id})" for f in obj.facilities.all())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        # A hard delete would lose history; owners soft-delete in the portal.
        return False

    @admin.action(description="Disable selected keys", permissions=["change"])
    def disable_selected_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        disabled = skipped = 0
        for api_key in queryset.select_related("account"):
            try:
                changed = services.api_key_disable(
                    api_key=api_key, actor=request.user, ip=client_ip(request)
                )
            except ValidationError:  # deleted keys stay as they are
                changed = False
            disabled += changed
            skipped += not changed
        self.message_user(
            request,
            f"Disabled {disabled} key{'s' if disabled != 1 else ''}"
            + (f"; {skipped} already disabled or deleted." if skipped else "."),
            messages.SUCCESS,
        )
