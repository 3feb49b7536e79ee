from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path
from django.views.static import serve

from campaigns import views as campaign_views
from campaigns.sitemaps import PageSitemap
from signatures.urls import api_urlpatterns

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt),
    path("favicon.ico", campaign_views.favicon),
    path("apple-touch-icon.png", campaign_views.apple_touch_icon),
    path("apple-touch-icon-precomposed.png", campaign_views.apple_touch_icon),
    path("language/<str:code>/", views.choose_language, name="choose_language"),
    path("sitemap.xml", sitemap, {"sitemaps": {"pages": PageSitemap}}, name="sitemap"),
    path("admin/", admin.site.urls),
    # Uploaded images (partner logos). Several app servers need shared storage for these.
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]
urlpatterns += api_urlpatterns
urlpatterns += i18n_patterns(
    path("", include("signatures.urls")),
    path("", include("campaigns.urls")),
)
