import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "releasenow.settings")
application = get_wsgi_application()

# The country list's collation table, loaded on first use: load it as the worker starts, not
# while its first signers wait.
from signatures.forms import country_codes  # noqa: E402

country_codes()
