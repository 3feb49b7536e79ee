from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Petition


class PageSitemap(Sitemap):
    """Every public page once per language, with hreflang alternates and an x-default."""

    i18n = True
    alternates = True
    x_default = True
    protocol = "https" if settings.SITE_URL.startswith("https") else "http"

    def items(self) -> list[str]:
        petitions = [p.get_absolute_url for p in Petition.objects.order_by("slug")]
        return ["campaigns:home", "campaigns:privacy", "campaigns:imprint", *petitions]

    def location(self, item) -> str:
        return item() if callable(item) else reverse(item)
