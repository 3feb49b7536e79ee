from django.conf import settings
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_cache_control
from django.utils.html import strip_tags
from django.utils.translation import get_language, gettext, ngettext
from django.views.decorators.http import require_GET

from releasenow.lib import l10n
from releasenow.lib.pagecache import public_page, shows_count

from . import share_images
from .models import Campaign, Chart, Figure, Page, Petition, Portrait, Quote, Section


def translation_notes(objects) -> dict[str, bool]:
    """Which notes the page needs: English shown for a missing translation, a translation of
    an older English text, or a translation the campaign has not reviewed yet."""
    states = {obj.translation_state() for obj in objects}
    return {
        "fallback": "missing" in states,
        "outdated_translation": "outdated" in states,
        "unreviewed_translation": "unreviewed" in states,
    }


def group_by_section(objects) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for obj in objects:
        grouped.setdefault(obj.section, []).append(obj)
    return grouped


@public_page
def home(request: HttpRequest) -> HttpResponse:
    """The campaign page: its sections in order, each with the figures, charts, portraits and
    quotes attached to it."""
    campaign = Campaign.objects.current()
    if campaign is None:
        raise Http404("No campaign content loaded")
    sections = list(Section.objects.prefetch_related("translations"))
    attached = {
        "figures": group_by_section(
            Figure.objects.filter(Q(in_brief=True) | Q(verified=True)).prefetch_related(
                "translations"
            )
        ),
        "charts": group_by_section(Chart.objects.prefetch_related("translations", "points")),
        "portraits": group_by_section(Portrait.objects.prefetch_related("translations")),
        "quotes": group_by_section(Quote.objects.prefetch_related("translations")),
    }
    blocks = [
        {
            "section": section,
            **{name: by_section.get(section.key, []) for name, by_section in attached.items()},
        }
        for section in sections
    ]
    shown = [
        campaign,
        *sections,
        *(obj for group in attached.values() for objs in group.values() for obj in objs),
    ]
    shows_count(request, campaign.petition)
    return render(
        request,
        "campaigns/home.html",
        {
            "campaign": campaign,
            "blocks": blocks,
            "partners": campaign.partners.all(),
            "petition": campaign.petition,
            **translation_notes(shown),
        },
    )


@public_page
def petition(request: HttpRequest, slug: str) -> HttpResponse:
    """A petition's text with its count; the campaign's manifesto lives at /<lang>/manifesto/."""
    petition = get_object_or_404(Petition.objects.prefetch_related("translations"), slug=slug)
    shows_count(request, petition)
    return render(
        request,
        "campaigns/petition.html",
        {"petition": petition, **translation_notes([petition])},
    )


@require_GET
def share_image(request: HttpRequest, key: str) -> HttpResponse:
    """The share image of the campaign page (`campaign`) or of a petition, in the page's
    language, with the current count."""
    campaign = Campaign.objects.current()
    if campaign is None:
        raise Http404("No campaign content loaded")
    if key == "campaign":
        petition, title = campaign.petition, campaign.tagline or campaign.name
    else:
        petition = get_object_or_404(Petition.objects.prefetch_related("translations"), slug=key)
        title = petition.title
    count = ""
    if petition and petition.shows_count:
        number = l10n.number(petition.signature_count)
        count = ngettext(
            "<strong>%(number)s</strong> person signed",
            "<strong>%(number)s</strong> people signed",
            petition.signature_count,
        ) % {"number": number}
        count = strip_tags(count)
    elif petition and petition.is_open:
        count = gettext("Be among the first to sign.")
    site = f"{campaign.name} · #{campaign.hashtag}" if campaign.hashtag else campaign.name
    png = share_images.share_image(f"{get_language()}:{key}", title, count, site)
    response = HttpResponse(png, content_type="image/png")
    patch_cache_control(response, public=True, max_age=settings.SHARE_IMAGE_MAX_AGE)
    return response


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(share_images.favicon_ico(), content_type="image/x-icon")
    patch_cache_control(response, public=True, max_age=86400)
    return response


@require_GET
def apple_touch_icon(request: HttpRequest) -> HttpResponse:
    png = share_images.icon_png(180, opaque=True)
    response = HttpResponse(png, content_type="image/png")
    patch_cache_control(response, public=True, max_age=86400)
    return response


@public_page
def page(request: HttpRequest, slug: str) -> HttpResponse:
    page = get_object_or_404(Page.objects.prefetch_related("translations"), slug=slug)
    return render(request, "campaigns/page.html", {"page": page, **translation_notes([page])})
