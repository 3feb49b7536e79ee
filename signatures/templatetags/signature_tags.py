from django import template

from campaigns.models import Petition
from signatures.forms import SignatureForm
from signatures.models import Signature

register = template.Library()

LATEST = 20


@register.inclusion_tag("signatures/includes/form.html", takes_context=True)
def signature_form(context, petition: Petition) -> dict:
    """The sign form, embedded in a petition's page; it posts to the sign view."""
    initial = SignatureForm.initial_for()
    if request := context.get("request"):
        initial["source"] = request.GET.get("source", "")[:40]
    return {"petition": petition, "form": SignatureForm(initial=initial)}


@register.inclusion_tag("signatures/includes/latest.html")
def latest_signatories(petition: Petition) -> dict:
    latest = Signature.objects.public().filter(petition=petition).newest_first()[:LATEST]
    return {"petition": petition, "latest": list(latest)}
