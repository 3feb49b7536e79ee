from django.contrib import admin
from parler.admin import TranslatableAdmin

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


class PartnerInline(admin.TabularInline):
    model = Partner
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(TranslatableAdmin):
    list_display = ["__str__", "key", "hashtag", "launched_on", "language_column"]
    inlines = [PartnerInline]


@admin.register(Petition)
class PetitionAdmin(TranslatableAdmin):
    list_display = ["__str__", "slug", "text_version", "text_date", "is_open", "signature_count"]
    readonly_fields = ["signature_count", "updated_at"]


@admin.register(Section)
class SectionAdmin(TranslatableAdmin):
    list_display = ["__str__", "key", "order", "language_column"]
    list_editable = ["order"]


@admin.register(Portrait)
class PortraitAdmin(TranslatableAdmin):
    list_display = ["__str__", "order", "language_column"]
    list_editable = ["order"]


@admin.register(Quote)
class QuoteAdmin(TranslatableAdmin):
    list_display = ["__str__", "section", "original_language", "order", "language_column"]


@admin.register(Figure)
class FigureAdmin(TranslatableAdmin):
    list_display = ["__str__", "key", "qualifier", "value", "as_of", "source", "language_column"]


class ChartPointInline(admin.TabularInline):
    model = ChartPoint
    extra = 1
    fields = ["order", "country", "date", "qualifier", "value", "as_of", "source", "source_url"]


@admin.register(Chart)
class ChartAdmin(TranslatableAdmin):
    list_display = ["__str__", "key", "kind", "language_column"]
    inlines = [ChartPointInline]


@admin.register(Page)
class PageAdmin(TranslatableAdmin):
    list_display = ["__str__", "slug", "language_column"]
