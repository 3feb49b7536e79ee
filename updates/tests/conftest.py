import pytest

from signatures.tests.conftest import _fresh_rate_limits, make_signature, manifesto  # noqa: F401
from updates.models import Update


@pytest.fixture(autouse=True)
def _no_waiting(settings):
    """The worker in batch mode runs what is due: re-checks of the mail queue are due at once."""
    settings.UPDATE_RECHECK_SECONDS = 0


@pytest.fixture
def update(manifesto) -> Update:  # noqa: F811
    """An update written in English and German only."""
    update = Update(petition=manifesto)
    update.set_current_language("en")
    update.subject = "News from the campaign"
    update.body = "Thank you! **Ten** prisoners were released.\n\n[Read more](https://example.org/)"
    update.save()
    update.set_current_language("de")
    update.subject = "Neuigkeiten der Kampagne"
    update.body = "Danke! **Zehn** Gefangene sind frei."
    update.save()
    return update


@pytest.fixture
def signers(manifesto):  # noqa: F811
    """Who may and who may not get an update."""
    from signatures.models import Signature

    people = {
        "anna": make_signature(manifesto, "Anna En", updates_consent="on"),
        "bernd": make_signature(manifesto, "Bernd De", updates_consent="on"),
        "piotr": make_signature(manifesto, "Piotr Pl", updates_consent="on"),
        "quiet": make_signature(manifesto, "Quiet One"),
        "pending": make_signature(manifesto, "Pending One", confirm=False, updates_consent="on"),
        "gone": make_signature(manifesto, "Gone One", updates_consent="on"),
        "fraud": make_signature(manifesto, "Fraud One", updates_consent="on"),
    }
    Signature.objects.filter(pk=people["bernd"].pk).update(language="de")
    Signature.objects.filter(pk=people["piotr"].pk).update(language="pl")
    people["gone"].withdraw()
    people["fraud"].mark_fraudulent()
    return people
