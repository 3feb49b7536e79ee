"""Importing signatures from lists the campaign collected before this site existed.

Two formats:

- the plain list campaigns publish, one signatory per line, bullets optional:
  `Name (role or organisation), City, Country` — role, city and country optional, the country
  in any of the site's languages or missing. Lines without a bullet in a bulleted list are
  headings; "Former political prisoners" (in any site language) starts that group.
- CSV with a header row: `full_name` (required), `affiliation`, `city`, `country` (name or ISO
  code), `email`, `visibility` (public, initials, anonymous), `group` (supporter,
  former_political_prisoner, relative), `group_verified` (yes/no).

Imported signatures count at once, are marked with their source, are never e-mailed, and carry a
key made from their content, so importing the same file again creates nothing new.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django_countries import countries

from campaigns.models import Petition
from releasenow.lib.countries import all_names

from .forms import FORMULA_START, URL_OR_EMAIL, clean_text
from .models import AuditEntry, Signature

BULLET = re.compile(r"^\s*(?:[•·●▪◦‣*–—-]|\d{1,5}[.)])\s+")
COUNTRY_ALIASES = {
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "us": "US", "united states of america": "US",
    "uk": "GB", "u.k.": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "great britain": "GB",
    "czech republic": "CZ", "holland": "NL", "the netherlands": "NL", "russia": "RU",
    "belarus": "BY", "byelorussia": "BY", "рб": "BY",
}  # fmt: skip
GROUP_HEADINGS = {"former political prisoners": Signature.Group.FORMER_POLITICAL_PRISONER}


@dataclass
class Line:
    number: int
    raw: str
    full_name: str = ""
    affiliation: str = ""
    city: str = ""
    country: str = ""
    email: str = ""
    visibility: str = ""
    group: str = Signature.Group.SUPPORTER
    group_verified: bool = False
    error: str = ""
    heading: bool = False

    def describe(self) -> str:
        parts = [self.full_name]
        if self.affiliation:
            parts[0] += f" ({self.affiliation})"
        parts += [p for p in (self.city, self.country) if p]
        return ", ".join(parts)


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)
    created: int = 0
    existing: int = 0

    @property
    def errors(self) -> list[Line]:
        return [line for line in self.lines if line.error]

    @property
    def valid(self) -> list[Line]:
        return [line for line in self.lines if not line.error and not line.heading]


def country_names() -> dict[str, str]:
    """Country names in every site language (and common aliases), folded, to their code."""
    names = all_names([code for code, _name in settings.LANGUAGES])
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for code, name in countries:
                names.setdefault(str(name).casefold(), code)
    for code, _name in countries:
        names[code.casefold()] = code
    names.update(COUNTRY_ALIASES)
    return names


def find_country(text: str, names: dict[str, str]) -> str:
    text = text.strip().strip(".").casefold()
    if text in names and (len(text) > 2 or text in COUNTRY_ALIASES):
        return names[text]
    return ""


def split_location(parts: list[str], names: dict[str, str]) -> tuple[str, str]:
    """(city, country) from the comma-separated parts after the name."""
    parts = [p.strip() for p in parts if p.strip()]
    if not parts:
        return "", ""
    if country := find_country(parts[-1], names):
        return ", ".join(parts[:-1]), country
    if len(parts) == 2 and (country := find_country(parts[0], names)):
        return parts[1], country  # "Georgia, Tbilisi"
    words = parts[-1].split()
    for size in (3, 2, 1):  # "Florida USA", "Cambridge MA United Kingdom"
        if len(words) > size and (country := find_country(" ".join(words[-size:]), names)):
            return ", ".join([*parts[:-1], " ".join(words[:-size])]), country
    return ", ".join(parts), ""


def split_name_and_role(text: str) -> tuple[str, str, str, str]:
    """(name, role, rest after the role, error) with nested parentheses in the role."""
    if "(" not in text:
        name, _, rest = text.partition(",")
        return name.strip(), "", rest, ""
    start = text.index("(")
    depth = 0
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            rest = text[index + 1 :].strip()
            if rest and not rest.startswith(","):
                return "", "", "", "text after the closing parenthesis is not “, City, Country”"
            return text[:start].strip(), text[start + 1 : index].strip(), rest[1:], ""
    return "", "", "", "unbalanced parentheses"


def check_name(line: Line) -> None:
    name = line.full_name
    if not name:
        line.error = line.error or "no name"
    elif len(name) > 120:
        line.error = "name longer than 120 characters"
    elif URL_OR_EMAIL.search(name):
        line.error = "web or e-mail address in the name"
    elif name.startswith(FORMULA_START):
        line.error = "name starts with =, +, - or @"
    elif any(ch.isdigit() for ch in name):
        line.error = "digits in the name"
    elif not any(ch.isalpha() for ch in name):
        line.error = "no letters in the name"
    elif len(line.affiliation) > 150 or len(line.city) > 100:
        line.error = "role or city too long"


def parse_list(text: str) -> list[Line]:
    names = country_names()
    raw_lines = text.splitlines()
    bulleted = any(BULLET.match(raw) for raw in raw_lines)
    group = Signature.Group.SUPPORTER
    lines = []
    for number, raw in enumerate(raw_lines, start=1):
        cleaned = clean_text(raw)
        if not cleaned:
            continue
        line = Line(number=number, raw=raw.strip())
        lines.append(line)
        if bulleted and not BULLET.match(raw):
            line.heading = True
            group = GROUP_HEADINGS.get(cleaned.rstrip(":").casefold(), Signature.Group.SUPPORTER)
            continue
        body = BULLET.sub("", cleaned)
        name, role, rest, error = split_name_and_role(body)
        line.full_name, line.affiliation, line.error = name, role, error
        line.city, line.country = split_location(rest.split(","), names)
        line.group, line.group_verified = group, group != Signature.Group.SUPPORTER
        check_name(line)
    return lines


def parse_csv(text: str) -> list[Line]:
    names = country_names()
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "full_name" not in reader.fieldnames:
        return [
            Line(
                number=1,
                raw=text.splitlines()[0] if text else "",
                error="no full_name column in the header",
            )
        ]
    lines = []
    for row in reader:

        def get(key: str, row: dict = row) -> str:
            return clean_text(row.get(key) or "")

        line = Line(number=reader.line_num, raw=", ".join(v or "" for v in row.values()))
        line.full_name, line.affiliation, line.city = (
            get("full_name"),
            get("affiliation"),
            get("city"),
        )
        country = get("country")
        line.country = (
            country.upper() if country.upper() in dict(countries) else find_country(country, names)
        )
        if country and not line.country:
            line.error = f"unknown country “{country}”"
        line.email = get("email")
        if line.email:
            try:
                validate_email(line.email)
            except ValidationError:
                line.error = f"invalid e-mail address “{line.email}”"
        line.visibility = get("visibility").lower()
        if line.visibility and line.visibility not in Signature.Visibility.values:
            line.error = f"unknown visibility “{line.visibility}”"
        line.group = get("group").lower() or Signature.Group.SUPPORTER
        if line.group not in Signature.Group.values:
            line.error = f"unknown group “{line.group}”"
        line.group_verified = get("group_verified").lower() in ("yes", "true", "1")
        check_name(line)
        lines.append(line)
    return lines


def parse(text: str, filename: str = "") -> list[Line]:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    if filename.lower().endswith(".csv") or "full_name" in first:
        return parse_csv(text.lstrip("\ufeff"))
    return parse_list(text)


def import_key(line: Line) -> str:
    content = "|".join([line.full_name, line.affiliation, line.city, line.country]).casefold()
    return hashlib.sha256(content.encode()).hexdigest()


def import_signatures(
    petition: Petition, text: str, *, source: str, visibility: str = "public",
    filename: str = "", dry_run: bool = False, actor=None,
) -> Report:  # fmt: skip
    """Parse and (unless dry_run) import; lines that fail are reported, never half-imported."""
    report = Report(lines=parse(text, filename))
    for line in report.valid:
        key = import_key(line)
        exists = Signature.objects.filter(petition=petition, import_key=key).exists() or (
            line.email and Signature.find(petition, line.email)
        )
        if exists:
            report.existing += 1
            continue
        report.created += 1
        if not dry_run:
            create_imported(petition, line, key, source, line.visibility or visibility, actor)
    if report.created and not dry_run:
        AuditEntry.record_import(actor, petition, f"{source}: {report.created} imported")
    return report


def create_imported(
    petition, line: Line, key: str, source: str, visibility: str, actor
) -> Signature:
    with transaction.atomic():
        signature = Signature(
            petition=petition, status=Signature.Status.CONFIRMED, confirmed_at=timezone.now(),
            full_name=line.full_name, affiliation=line.affiliation, city=line.city,
            country=line.country, visibility=visibility, group=line.group,
            group_verified_at=timezone.now() if line.group_verified else None,
            moderation=Signature.Moderation.APPROVED, moderated_at=timezone.now(),
            imported_from=source[:200], import_key=key, language=settings.LANGUAGE_CODE,
        )  # fmt: skip
        if line.email:
            signature.set_email(line.email)
        signature._settle(False, "")
    return signature
