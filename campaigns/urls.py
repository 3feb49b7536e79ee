from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("", views.home, name="home"),
    path("manifesto/", views.petition, {"slug": "manifesto"}, name="manifesto"),
    path("privacy/", views.page, {"slug": "privacy"}, name="privacy"),
    path("imprint/", views.page, {"slug": "imprint"}, name="imprint"),
    path("share/<slug:key>.png", views.share_image, name="share_image"),
    path("<slug:slug>/", views.petition, name="petition"),
]
