"""The site's URLconf with the petitions and the admin elsewhere, for tests of remembered paths."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.urls.resolvers import LocalePrefixPattern

from releasenow.urls import urlpatterns as site

urlpatterns = [path("staff/", admin.site.urls)]
urlpatterns += [
    p for p in site if not isinstance(p.pattern, LocalePrefixPattern) and str(p.pattern) != "admin/"
]
urlpatterns += i18n_patterns(
    path("petitions/", include("signatures.urls")),
    path("petitions/", include("campaigns.urls")),
)
