"""The delivery document: what the campaign hands to a government, printed from the data.

Cover with the count and date, the petition's text in the chosen language, then the public
signatories grouped as on the site, in columns, with page numbers and a summary per country.
WeasyPrint renders it with the system's fonts (DejaVu covers Cyrillic and Latin diacritics) and
may not fetch anything from the network.
"""

from django.template.loader import render_to_string
from django.utils import timezone, translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from campaigns.models import Petition

from .models import CountryCount, Signature


def delivery_html(petition: Petition, language: str) -> str:
    public = Signature.objects.public().filter(petition=petition).newest_first()
    former = public.former_prisoners()
    others = public.not_former_prisoners()
    with translation.override(language):
        petition.set_current_language(language)
        return render_to_string(
            "signatures/delivery.html",
            {
                "petition": petition,
                "fallback": petition.is_fallback(language),
                "former": former.iterator(chunk_size=2000),
                "has_former": former.exists(),
                "others": others.iterator(chunk_size=2000),
                "countries": CountryCount.for_petition(petition),
                "listed": public.count(),
                "date": timezone.localdate(),
                "LANGUAGE_CODE": language,
            },
        )


def delivery_pdf(petition: Petition, language: str) -> bytes:
    no_network = URLFetcher(allowed_protocols={"data"})
    return HTML(string=delivery_html(petition, language), url_fetcher=no_network).write_pdf()
