from django.contrib import admin

from integrations.models import ApiKey, AuditEvent


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "api_key",
        "account",
        "all_facilities",
        "is_active",
        "created_at",
        "last_used_at",
    ]
    list_filter = ["is_active", "all_facilities", "account"]
    search_fields = ["name", "api_key", "account__name"]
    list_select_related = ["account"]
    # Secrets are never shown here: only digest and ciphertext exist, and both stay hidden.
    exclude = ["secret_digest", "secret_encrypted", "previous_secret_digest"]
    readonly_fields = [
        "api_key",
        "created_at",
        "created_by",
        "disabled_at",
        "disabled_by",
        "deleted_at",
        "deleted_by",
        "last_used_at",
        "last_used_ip",
    ]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "account", "actor", "action", "target_repr", "ip"]
    list_filter = ["action", "account"]
    search_fields = ["target_repr", "actor__email", "account__name"]
    list_select_related = ["account", "actor"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
