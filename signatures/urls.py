from django.urls import path

from . import views

app_name = "signatures"

urlpatterns = [
    path("<slug:slug>/sign/", views.sign, name="sign"),
    path("<slug:slug>/sign/check-your-inbox/", views.check_inbox, name="check_inbox"),
    path("<slug:slug>/confirm/<str:token>/", views.confirm, name="confirm"),
    path("<slug:slug>/withdraw/<str:token>/", views.withdraw, name="withdraw"),
    path("<slug:slug>/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("<slug:slug>/signatories/", views.signatories, name="signatories"),
    path("<slug:slug>/embed/", views.embed, name="embed"),
    path("<slug:slug>/badge.svg", views.badge, name="badge"),
]

api_urlpatterns = [
    path("api/v1/petitions/<slug:slug>/", views.api_petition, name="api_petition"),
    path("api/v1/challenge/", views.api_challenge, name="api_challenge"),
]
