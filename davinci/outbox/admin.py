from django.contrib import admin

from davinci.outbox.models import Notice


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "attempts", "last_error", "created_at", "sent_at"]
    list_filter = ["status", "kind"]
    readonly_fields = [field.name for field in Notice._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
