from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html, format_html_join
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
    fields = ["key", "name", "url", "logo", "order"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    """The campaign's partners, where each may embed the sign form, and its embed snippet."""

    list_display = ["name", "key", "embed_sites", "embed_link"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = ["campaign", "key", "name", "url", "logo", "order", "embed_origins", "embed_anywhere"]

    @admin.display(description="may embed the form")
    def embed_sites(self, obj: Partner) -> str:
        if obj.embed_anywhere:
            return "any site"
        return ", ".join(obj.embed_origin_list()) or "no site yet"

    @admin.display(description="embed")
    def embed_link(self, obj: Partner) -> str:
        url = reverse("admin:campaigns_partner_embed", args=[obj.pk])
        return format_html('<a href="{}">snippet and preview</a>', url)

    def get_urls(self):
        embed = self.admin_site.admin_view(self.embed_view)
        return [
            path("<int:pk>/embed/", embed, name="campaigns_partner_embed"),
            *super().get_urls(),
        ]

    def embed_view(self, request, pk: int):
        """The snippet a partner pastes, for a petition and language, with the real embed
        shown below it (framed from our own origin, which the embed route always allows)."""
        partner = get_object_or_404(Partner, pk=pk)
        petitions = list(Petition.objects.all())
        language = request.GET.get("lang", "en")
        if language not in dict(settings.LANGUAGES):
            language = "en"
        petition = next(
            (p for p in petitions if p.slug == request.GET.get("petition")),
            next(
                (p for p in petitions if p.slug == "manifesto"), petitions[0] if petitions else None
            ),
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Embed the sign form: {partner.name}",
            "partner": partner,
            "petitions": petitions,
            "petition": petition,
            "language": language,
            "languages": settings.LANGUAGES,
        }
        if petition:
            with translation.override(language):
                petition.set_current_language(language)
                embed_path = reverse("signatures:embed", kwargs={"slug": petition.slug})
                badge_path = reverse("signatures:badge", kwargs={"slug": petition.slug})
                page_path = petition.get_absolute_url()
                frame_title = f"{translation.gettext('Sign the manifesto')}: {petition.title}"
                badge_alt = translation.gettext("Sign the manifesto")
            query = f"?partner={partner.key}"
            context.update(
                preview_url=embed_path + query,
                embed_url=settings.SITE_URL + embed_path + query,
                script_url=settings.SITE_URL + settings.STATIC_URL + "js/embed.js",
                badge_url=settings.SITE_URL + badge_path,
                badge_path=badge_path,
                page_url=settings.SITE_URL + page_path + f"?source={partner.key}",
                frame_title=frame_title,
                badge_alt=badge_alt,
            )
        return TemplateResponse(request, "admin/campaigns/partner/embed.html", context)


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
