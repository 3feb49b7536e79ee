"""Dates and numbers in the visitor's language, from CLDR (Babel) rather than Django's formats.

Django's per-language formats put capitalised nominative months into sentences ("на Май",
"Marzec"), leave a full stop after "г."/"р."/"d." before the sentence's own, use "." to group
digits in Lithuanian and a breakable space elsewhere. CLDR has the genitive month forms, the
locale's grouping and no-break spaces.
"""

from __future__ import annotations

import datetime
import decimal

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal
from django.utils.translation import get_language

# Patterns where the CLDR default does not read right inside a sentence: Lithuanian months
# after the year take the genitive ("2025 m. kovo mėn.", not "kovas").
MONTH_YEAR_PATTERNS = {"lt": "y 'm'. MMMM 'mėn'."}
# The campaign's Belarusian says травень/траўня where CLDR has the form shared with Russian.
MONTH_NAMES = {"be": {"мая": "траўня", "май": "травень"}}


def _language(language: str | None) -> str:
    return (language or get_language() or "en").split("-")[0]


def _locale(language: str) -> Locale:
    return Locale.parse("en_GB" if language == "en" else language)


def _own_words(text: str, language: str) -> str:
    for cldr, own in MONTH_NAMES.get(language, {}).items():
        text = text.replace(cldr, own)
    return text


def long_date(value: datetime.date | None, language: str | None = None) -> str:
    """ "21 May 2025", "21 траўня 2025 г.", "2025 m. gegužės 21 d." """
    if not value:
        return ""
    language = _language(language)
    return _own_words(format_date(value, "long", locale=_locale(language)), language)


def month_year(value: datetime.date | None, language: str | None = None) -> str:
    """ "March 2025", "сакавік 2025", "marzec 2025", "2025 m. kovo mėn.": lower-case months
    except where the language capitalises them (English, German)."""
    if not value:
        return ""
    language = _language(language)
    locale = _locale(language)
    if language in MONTH_YEAR_PATTERNS:
        text = format_date(value, MONTH_YEAR_PATTERNS[language], locale=locale)
    else:
        text = format_skeleton("yMMMM", value, locale=locale)
    return _own_words(text, language)


def number(value: int | float | decimal.Decimal | None, language: str | None = None) -> str:
    """Grouped the locale's way ("1,100", "1 100", "1.100" in German) with a no-break space, so
    that a number never breaks across lines."""
    if value is None:
        return ""
    if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
        value = int(value)
    text = format_decimal(value, locale=_locale(_language(language)), group_separator=True)
    return text.replace(" ", "\u00a0")


def end_of_sentence(text: str) -> str:
    """Drop an abbreviation's full stop ("2025 г.") where the sentence puts its own."""
    return text[:-1] if text.endswith(".") else text
