"""Country names in the visitor's language, from CLDR (via Babel), for all site languages.

django-countries provides the codes and the model field, but has no Belarusian names; CLDR has
every language the site speaks, so names shown to people come from here. Lists are sorted with
the Unicode Collation Algorithm (pyuca), which orders Cyrillic and Latin with diacritics sensibly
in every language.
"""

import functools

from babel import Locale
from django.utils.translation import get_language
from django_countries import countries


@functools.cache
def _names(language: str) -> dict[str, str]:
    try:
        territories = Locale.parse(language.replace("-", "_")).territories
    except (ValueError, LookupError):
        territories = Locale.parse("en").territories
    return {code: territories.get(code, str(name)) for code, name in countries}


def country_name(code: str, language: str | None = None) -> str:
    if not code:
        return ""
    return _names(language or get_language() or "en").get(code, code)


@functools.cache
def _sorted_choices(language: str) -> tuple[tuple[str, str], ...]:
    key = _collator().sort_key
    return tuple(sorted(_names(language).items(), key=lambda item: key(item[1])))


@functools.cache
def _collator():
    import pyuca

    return pyuca.Collator()


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """(code, name) in the visitor's language, in Unicode collation order (not code order)."""
    return list(_sorted_choices(language or get_language() or "en"))


def all_names(languages) -> dict[str, str]:
    """Every name of every country in the given languages, folded, to its code (for imports)."""
    folded = {}
    for language in languages:
        for code, name in _names(language).items():
            folded[name.casefold()] = code
    return folded
