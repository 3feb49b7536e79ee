"""Fixtures shared by every app's tests."""

from pathlib import Path

import pytest
from django.conf import settings

DEFAULT_PACK = Path(settings.BASE_DIR) / "content" / "default"


@pytest.fixture
def content(db):
    """The project's default content pack, loaded as `make run` loads it."""
    from campaigns.content_pack import load_pack

    load_pack(DEFAULT_PACK)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
