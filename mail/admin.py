"""Staff see what the site sends and what failed, never to whom (the address is encrypted in
the queue and erased once a message is done)."""

from django.contrib import admin, messages
from django.utils import timezone

from .models import OutgoingMail


@admin.register(OutgoingMail)
class OutgoingMailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "ref", "status", "attempts", "next_attempt_at", "error"]
    list_filter = ["status", "kind"]
    search_fields = ["ref", "key"]
    actions = ["retry_now"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutgoingMail._meta.fields if f.name != "payload"]
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Retry waiting messages now", permissions=["view"])
    def retry_now(self, request, queryset):
        from .tasks import wake_sender

        count = queryset.filter(status=OutgoingMail.Status.QUEUED).update(
            next_attempt_at=timezone.now()
        )
        wake_sender()
        self.message_user(request, f"{count} messages will be retried now.", messages.SUCCESS)
