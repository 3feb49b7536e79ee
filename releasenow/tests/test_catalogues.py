"""Every visible string is translated into every site language."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]
# Names that stay as they are in every language.
UNTRANSLATED_WORDS = {"Release", "NO", "W", "Telegram", "WhatsApp", "X", "Facebook", "Bluesky"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete_without_fuzzy_entries(language):
    path = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    catalog = read_po(path.open("rb"), locale=language)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif not all(strings):
            problems.append(f"untranslated: {message.id!r}")
        for error in message.check(catalog):
            problems.append(f"{message.id!r}: {error}")
    assert not problems, "\n".join(problems)
    assert len(catalog) > 100


def visible_english(source: str) -> list[str]:
    text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", " ", source, flags=re.S)
    text = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", " ", text, flags=re.S)
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.S)
    attributes = re.findall(r'\b(?:alt|title|aria-label|placeholder)="([^"]*)"', text)
    text = re.sub(r"{%.*?%}|{{.*?}}", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    words = re.findall(
        r"[A-Za-z]{2,}|\b[A-Z]\b",
        " ".join([text, *(re.sub(r"{%.*?%}|{{.*?}}", " ", a) for a in attributes)]),
    )
    return [w for w in words if w not in UNTRANSLATED_WORDS]


def public_templates():
    for path in sorted((ROOT / "templates").rglob("*.*")):
        if "admin" not in path.parts:
            yield path


@pytest.mark.parametrize(
    "path", list(public_templates()), ids=lambda p: str(p.relative_to(ROOT / "templates"))
)
def test_templates_hold_no_untranslated_visible_english(path):
    assert visible_english(path.read_text()) == []
