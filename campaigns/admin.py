from django.contrib import admin
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


class PartnerInline(admin.TabularInline):
    model = Partner
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(TranslatableAdmin):
    list_display = ["__str__", "key", "hashtag", "launched_on"]
    inlines = [PartnerInline]


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
    list_display = ["__str__", "key", "qualifier", "value", "as_of", "source"]


class ChartPointInline(admin.TabularInline):
    model = ChartPoint
    extra = 1
    fields = ["order", "country", "date", "qualifier", "value", "as_of", "source", "source_url"]


@admin.register(Chart)
class ChartAdmin(TranslatableAdmin):
    list_display = ["__str__", "key", "kind"]
    inlines = [ChartPointInline]


@admin.register(Page)
class PageAdmin(TranslatableAdmin):
    list_display = ["__str__", "slug"]
