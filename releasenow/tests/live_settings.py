"""Settings for app servers that tests start as separate processes: the project's own
settings, on the database the test run created (its name comes from the test)."""

import os

from releasenow.settings import *  # noqa: F403
from releasenow.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["RELEASENOW_LIVE_TEST_DATABASE"]
