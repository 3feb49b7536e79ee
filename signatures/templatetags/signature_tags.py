from django import template
from django.utils.translation import get_language

from campaigns.models import Petition
from signatures.forms import SignatureForm
from signatures.models import Signature

register = template.Library()

LATEST = 20


@register.inclusion_tag("signatures/includes/form.html")
def signature_form(petition: Petition) -> dict:
    """The sign form, embedded in a petition's page; it posts to the sign view."""
    return {
        "petition": petition,
        "form": SignatureForm(initial=SignatureForm.initial_for(get_language())),
    }


@register.inclusion_tag("signatures/includes/latest.html")
def latest_signatories(petition: Petition) -> dict:
    latest = Signature.objects.public().filter(petition=petition).newest_first()[:LATEST]
    return {"petition": petition, "latest": list(latest)}
