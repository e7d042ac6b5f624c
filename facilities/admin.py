from django.contrib import admin

from davinci.admin import RecordAdmin
from davinci.net import client_ip
from facilities import services
from facilities.forms import LockAdminForm
from facilities.models import Facility, HistoryArchive, Lock, LockEvent, ReleaseAttempt, Unit

MASKED_CODE = "••••"


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "facility_id", "include_in_api", "created_at"]
    list_filter = ["include_in_api", "account"]
    search_fields = ["name", "address", "facility_id", "account__name"]
    readonly_fields = ["facility_id", "created_at"]
    list_select_related = ["account"]
    autocomplete_fields = ["account"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # Chosen once, when the facility is created: it never moves to another account.
        return [*self.readonly_fields, "account"] if obj is not None else self.readonly_fields


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["unit_number", "facility", "tenant_name", "tenant_email", "tenant_phone"]
    list_filter = ["facility__account"]
    search_fields = ["unit_number", "tenant_name", "tenant_email", "facility__name"]
    list_select_related = ["facility"]
    autocomplete_fields = ["facility"]


@admin.register(Lock)
class LockAdmin(admin.ModelAdmin):
    form = LockAdminForm
    list_display = ["serial", "status", "masked_code", "facility", "unit", "account", "updated_at"]
    list_filter = ["status", "account"]
    search_fields = ["serial", "unit__unit_number", "facility__name", "facility__facility_id"]
    list_select_related = ["facility", "unit", "account"]
    autocomplete_fields = ["account", "facility", "unit"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description="Unlock code")
    def masked_code(self, lock: Lock) -> str:
        return MASKED_CODE

    def save_model(self, request, obj: Lock, form, change: bool) -> None:
        # Staff edits land in the lock's history like everyone else's.
        services.lock_admin_save(
            lock=obj, changed=form.changed_data, user=request.user, ip=client_ip(request)
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        # A lock's history points at it; retire a lock with a status (Lost, Sold, Damaged).
        return False


@admin.register(LockEvent)
class LockEventAdmin(RecordAdmin):
    list_display = [
        "created_at",
        "lock",
        "kind",
        "actor_type",
        "actor_user",
        "api_key",
        "from_status",
        "to_status",
        "unit",
        "ip",
    ]
    list_filter = ["kind", "actor_type"]
    search_fields = ["lock__serial", "unit__unit_number", "actor_user__email", "api_key__api_key"]
    list_select_related = ["lock", "actor_user", "api_key", "unit"]
    date_hierarchy = "created_at"


@admin.register(ReleaseAttempt)
class ReleaseAttemptAdmin(RecordAdmin):
    list_display = [
        "created_at",
        "account",
        "facility",
        "unit_number",
        "channel",
        "contact",
        "outcome",
        "ip",
    ]
    list_filter = ["outcome", "channel", "account"]
    search_fields = ["unit_number", "contact", "facility__name", "ip"]
    list_select_related = ["account", "facility"]
    date_hierarchy = "created_at"


@admin.register(HistoryArchive)
class HistoryArchiveAdmin(RecordAdmin):
    """What history retention took out of the database (facilities/retention.py); the owner
    downloads the files from the portal."""

    list_display = ["created_at", "account", "kind", "state", "cutoff", "rows", "removed", "bytes"]
    list_filter = ["kind", "state", "account"]
    list_select_related = ["account"]
    date_hierarchy = "created_at"
