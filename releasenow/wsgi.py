import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "releasenow.settings")
django_application = get_wsgi_application()


def application(environ, start_response):
    """Django's WSGI handler, with a whole answer handed over as one piece of bytes.

    Django returns the response object itself, which the server has to iterate; granian then
    moves the body chunk by chunk between Python and its own threads, and that cost the web
    processes a sixth of their Python time under the signing load (py-spy). A response that is
    not streamed is complete already: it goes as a list of one bytes object, which granian sends
    in one go, and the response is closed (request_finished) first. Streamed responses (static
    files, exports) are handed over as before.
    """
    response = django_application(environ, start_response)
    if getattr(response, "streaming", True):
        return response
    try:
        return [response.content]
    finally:
        response.close()


# The country list's collation table, loaded on first use: load it as the worker starts, not
# while its first signers wait.
from signatures.forms import country_codes  # noqa: E402

country_codes()
