"""Staff work on signatures: the moderation queue, verification, edits, audit, exports.

Every change goes through the model's methods, so counts stay exact and each action leaves an
audit entry. E-mail addresses are never shown here.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, CountryCount, Signature

PRIVACY_ORDER = [
    v.value
    for v in (
        Signature.Visibility.PUBLIC,
        Signature.Visibility.INITIALS,
        Signature.Visibility.ANONYMOUS,
    )
]
EDITABLE = ["full_name", "affiliation", "city", "country", "visibility"]


class QueueFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    QUEUES = {
        "review": (
            _("public text to review"),
            Q(status="confirmed", moderation="unreviewed") & ~Q(visibility="anonymous"),
        ),
        "held": (_("held (not counted)"), Q(held=True) & ~Q(status="withdrawn")),
        "claims": (
            _("group claims to verify"),
            Q(status="confirmed", group_verified_at__isnull=True, group_rejected_at__isnull=True)
            & ~Q(group="supporter"),
        ),
        "flagged": (
            _("flagged: no proof of work or disposable address"),
            Q(status="confirmed", moderation="unreviewed")
            & (Q(challenge_passed=False) | Q(disposable_domain=True)),
        ),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _q) in self.QUEUES.items()]

    def queryset(self, request, queryset):
        if self.value() in self.QUEUES:
            return queryset.filter(self.QUEUES[self.value()][1])
        return queryset


class SignatureAdminForm(forms.ModelForm):
    class Meta:
        model = Signature
        fields = EDITABLE

    def clean_visibility(self):
        """Staff may make a signature more private than the signer chose, never more public."""
        new = self.cleaned_data["visibility"]
        old = self.instance.visibility
        if PRIVACY_ORDER.index(new) < PRIVACY_ORDER.index(old):
            raise forms.ValidationError(
                _("Only the signer can make their signature more public than they chose.")
            )
        return new


def bulk(method_name: str, description: str):
    """An admin action that applies a model method to each selected signature."""

    def action(modeladmin, request, queryset):
        done = sum(bool(getattr(s, method_name)(actor=request.user)) for s in queryset)
        modeladmin.message_user(request, f"{description}: {done} of {queryset.count()} signatures.")

    action.__name__ = method_name
    return admin.action(description=description)(action)


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    form = SignatureAdminForm
    list_display = [
        "shown_name", "petition", "status", "moderation", "visibility", "group", "group_state",
        "country", "city", "flags", "counted", "listed", "confirmed_at",
    ]  # fmt: skip
    list_filter = [QueueFilter, "petition", "status", "moderation", "visibility", "group", "held"]
    search_fields = ["full_name", "city", "affiliation"]
    date_hierarchy = "confirmed_at"
    list_per_page = 100
    show_full_result_count = False
    fieldsets = [
        (_("Public fields"), {"fields": EDITABLE}),
        (
            _("State"),
            {
                "fields": [
                    "petition", "status", "moderation", "counted", "listed", "group",
                    "group_verified_at", "group_rejected_at", "created_at", "confirmed_at",
                    "withdrawn_at", "moderated_at", "duplicate_of",
                ]
            },
        ),
        (
            _("Checks"),
            {
                "fields": [
                    "held", "hold_reason", "challenge_passed", "disposable_domain", "email_failed",
                    "language", "updates_consent", "imported_from",
                ]
            },
        ),
    ]  # fmt: skip
    readonly_fields = [f for group in fieldsets[1:] for f in group[1]["fields"]]
    actions = [
        bulk("approve", _("Approve for the public list")),
        bulk("hide", _("Hide from the public list (still counted)")),
        bulk("mark_fraudulent", _("Mark as fraudulent (not counted)")),
        bulk("verify_group", _("Verify the group claim")),
        bulk("reject_group", _("Reject the group claim")),
        bulk("release", _("Release held signatures")),
        bulk("withdraw_on_request", _("Withdraw and erase on the signer's request")),
    ]

    @admin.display(description=_("name as listed"))
    def shown_name(self, obj: Signature) -> str:
        return obj.public_name() or "—"

    @admin.display(description=_("group claim"))
    def group_state(self, obj: Signature) -> str:
        if obj.group == Signature.Group.SUPPORTER:
            return ""
        if obj.group_verified_at:
            return _("verified")
        return _("rejected") if obj.group_rejected_at else _("to verify")

    @admin.display(description=_("flags"))
    def flags(self, obj: Signature) -> str:
        flags = []
        if obj.held:
            flags.append(_("held"))
        if not obj.challenge_passed and not obj.imported_from:
            flags.append(_("no proof of work"))
        if obj.disposable_domain:
            flags.append(_("disposable address"))
        if obj.email_failed:
            flags.append(_("e-mail failed"))
        return ", ".join(str(f) for f in flags)

    def has_add_permission(self, request) -> bool:
        return False  # signatures come from signing and from imports

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # erasure is a withdrawal, which keeps the counts honest

    def save_model(self, request, obj: Signature, form, change) -> None:
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if fields:
            Signature.objects.get(pk=obj.pk).change(request.user, "edit public fields", **fields)
        else:
            messages.info(request, _("Nothing changed."))


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = [
        "at",
        "actor_name",
        "action",
        "signature",
        "petition",
        "before",
        "after",
        "note",
    ]
    list_filter = ["action", "actor_name", "petition"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CountryCount)
class CountryCountAdmin(admin.ModelAdmin):
    list_display = ["petition", "country", "count"]
    list_filter = ["petition"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
