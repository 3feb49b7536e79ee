from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from releasenow.lib.pagecache import public_page, shows_count

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
        "figures": group_by_section(Figure.objects.prefetch_related("translations")),
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


@public_page
def page(request: HttpRequest, slug: str) -> HttpResponse:
    page = get_object_or_404(Page.objects.prefetch_related("translations"), slug=slug)
    return render(request, "campaigns/page.html", {"page": page, **translation_notes([page])})
