from django.contrib import admin

from .models import CountryCount, Signature


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    """Basic view of signatures. The address is never shown here, only stored encrypted."""

    list_display = [
        "public_name", "petition", "status", "visibility", "group", "country",
        "held", "challenge_passed", "disposable_domain", "confirmed_at",
    ]  # fmt: skip
    list_filter = [
        "petition",
        "status",
        "visibility",
        "group",
        "held",
        "challenge_passed",
        "disposable_domain",
    ]
    search_fields = ["full_name", "city", "affiliation"]
    readonly_fields = [
        "uuid", "petition", "status", "created_at", "confirmed_at", "withdrawn_at", "counted",
        "language", "challenge_passed", "disposable_domain", "held", "hold_reason", "email_failed",
        "updates_consent",
    ]  # fmt: skip
    exclude = ["email_encrypted", "email_digest"]
    actions = ["release_held"]

    @admin.action(description="Release held signatures (they count once confirmed)")
    def release_held(self, request, queryset):
        released = sum(signature.release() for signature in queryset.filter(held=True))
        self.message_user(request, f"{released} signatures released.")


@admin.register(CountryCount)
class CountryCountAdmin(admin.ModelAdmin):
    list_display = ["petition", "country", "count"]
    list_filter = ["petition"]

    def has_change_permission(self, request, obj=None):
        return False
