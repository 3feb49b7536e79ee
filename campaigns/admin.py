from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.html import format_html_join
from parler.admin import TranslatableAdmin as ParlerAdmin

from .models import (
    Campaign,
    Chart,
    ChartPoint,
    Figure,
    Page,
    Partner,
    Petition,
    Portrait,
    Quote,
    Section,
)

STATE_LABELS = {"missing": "—", "outdated": "OUTDATED", "unreviewed": "to review", "reviewed": "ok"}


class TranslatableAdmin(ParlerAdmin):
    """Parler's admin with a column saying, per language, whether a translation is missing,
    outdated (its English text changed since), waiting for review, or reviewed."""

    @admin.display(description="translations")
    def translation_status(self, obj):
        states = [
            (code, STATE_LABELS[state])
            for code, state in obj.translation_summary().items()
            if state != "source"
        ]
        return format_html_join(" ", "<span title='{1}'>{0}: {1}</span>", states)

    def get_list_display(self, request):
        return [*super().get_list_display(request), "translation_status"]


def warn_about_missing_imprint(request: HttpRequest) -> None:
    """Until the publisher, postal address and contact e-mail are filled in, staff are told on
    the admin's front page and the campaign's pages; public pages leave them out meanwhile."""
    campaign = Campaign.objects.current()
    missing = campaign.missing_imprint_details() if campaign else []
    if missing:
        messages.warning(
            request,
            f"The imprint is incomplete: fill in the campaign's {', '.join(missing)}. Until "
            "then the imprint and privacy pages name no publisher or contact address.",
        )


class PartnerInline(admin.TabularInline):
    model = Partner
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(TranslatableAdmin):
    list_display = ["__str__", "key", "hashtag", "launched_on"]
    inlines = [PartnerInline]

    def changelist_view(self, request, extra_context=None):
        warn_about_missing_imprint(request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            warn_about_missing_imprint(request)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Petition)
class PetitionAdmin(TranslatableAdmin):
    list_display = ["__str__", "slug", "text_version", "text_date", "is_open", "signature_count"]
    readonly_fields = ["signature_count", "updated_at"]


@admin.register(Section)
class SectionAdmin(TranslatableAdmin):
    list_display = ["__str__", "key", "order"]
    list_editable = ["order"]


@admin.register(Portrait)
class PortraitAdmin(TranslatableAdmin):
    list_display = ["__str__", "order"]
    list_editable = ["order"]


@admin.register(Quote)
class QuoteAdmin(TranslatableAdmin):
    list_display = ["__str__", "section", "original_language", "order"]


@admin.register(Figure)
class FigureAdmin(TranslatableAdmin):
    list_display = [
        "__str__", "key", "qualifier", "value", "as_of", "source", "in_brief", "verified",
    ]  # fmt: skip
    list_filter = ["in_brief", "verified"]


class ChartPointInline(admin.TabularInline):
    model = ChartPoint
    extra = 1
    fields = [
        "order", "country", "date", "qualifier", "value", "as_of", "source", "source_url",
        "in_brief", "verified",
    ]  # fmt: skip


@admin.register(Chart)
class ChartAdmin(TranslatableAdmin):
    list_display = ["__str__", "key", "kind"]
    inlines = [ChartPointInline]


@admin.register(Page)
class PageAdmin(TranslatableAdmin):
    list_display = ["__str__", "slug"]
