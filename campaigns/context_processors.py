import functools

from django.http import HttpRequest

from .models import Campaign


def campaign(request: HttpRequest) -> dict:
    """The running campaign, looked up once and only if a template uses it.

    Templates call callables, so `{{ campaign.name }}` queries on first use; a view that has the
    campaign already passes it in its own context, which takes precedence.
    """
    return {"campaign": functools.cache(Campaign.objects.current)}
