"""Checks of the free-text fields shown next to a name (role, city), as plain functions.

A role or a city is published: it must not carry a phone number, a web or e-mail address, a
spreadsheet formula, or only invisible characters (which would publish a blank, or hide
something). Each function returns the reason in words for staff, or "" when the text is fine.
"""

from __future__ import annotations

import re
import unicodedata

URL_OR_EMAIL = re.compile(
    r"https?://|www\.|\S@\S|\b[\w-]+\.(com|org|net|ru|by|io|info|eu|de|pl|lt|ua)\b", re.I
)
# Seven or more digits in a run of digits and phone separators, or a leading "+" and digits.
PHONE = re.compile(r"(?:\+\s*\d[\d\s().\-/]{5,}\d)|(?:\d[\d\s().\-/]{5,}\d)")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_invisible_only(raw: str) -> bool:
    """Non-empty text in which nothing would be seen: spaces, zero-width and format characters."""
    if not raw or not raw.strip():
        return False  # empty or plain spaces: simply nothing given
    return not any(
        unicodedata.category(ch)[0] in "LNPS" and unicodedata.category(ch) != "Cf" for ch in raw
    )


def looks_like_phone(text: str) -> bool:
    return any(sum(ch.isdigit() for ch in m.group()) >= 7 for m in PHONE.finditer(text))


def text_problem(raw: str, cleaned: str, what: str) -> str:
    """Why `raw` (as read) may not be published as `what` ("role", "city"); "" if it may."""
    if is_invisible_only(raw):
        return f"{what} has only invisible characters"
    if not cleaned:
        return ""
    if URL_OR_EMAIL.search(cleaned):
        return f"web or e-mail address in the {what}"
    if cleaned.startswith(FORMULA_START):
        return f"{what} starts with =, +, - or @ (a spreadsheet formula)"
    if looks_like_phone(cleaned):
        return f"phone number in the {what}"
    if not any(ch.isalpha() for ch in cleaned):
        return f"no letters in the {what}"
    return ""
