from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaign content"

    def ready(self) -> None:
        from releasenow.lib import pagecache

        pagecache.connect_signals()  # any content saved: cached pages are renewed
