"""Importing signatures from lists the campaign collected before this site existed.

Two formats:

- the plain list campaigns publish, one signatory per line, bullets optional:
  `Name (role or organisation), City, Country` — role, city and country optional, the country
  in any of the site's languages or missing. Lines without a bullet in a bulleted list are
  headings; "Former political prisoners" (in any site language) starts that group.
- CSV with a header row: `full_name` (required), `affiliation`, `city`, `country` (name or ISO
  code), `email`, `visibility` (public, initials, anonymous), `group` (supporter,
  former_political_prisoner, relative), `group_verified` (yes/no).

Safety first, because a name on a list has meant prison:

- A line whose country is Belarus, or whose city may be in Belarus (any script or spelling, from
  the GeoNames gazetteer), is imported *not listed*, whatever the file says.
- A line without its own visibility takes the one staff chose for the whole import, or else
  *initials only*; such lines, and lines whose place was inferred, ambiguous or unknown, are
  imported *unreviewed* with their reasons in `import_flags`, so staff see them in the queue.
- The country is inferred from the city only when the gazetteer is sure; an ambiguous or
  unknown place is reported and left empty, a misspelt country is refused with a suggestion.
- Role and city are checked like names (no phone numbers, addresses, formulas, invisible text).

Imported signatures count at once, are never e-mailed, and carry a key made with a secret from
their content and their occurrence in the file: importing the same file again creates nothing,
while two identical lines (two people of one name in one city) are both imported and raised as
a duplicate candidate for staff.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django_countries import countries
from rapidfuzz import fuzz, process

from campaigns.models import Petition
from releasenow.lib import places
from releasenow.lib.countries import all_names, country_name

from .forms import FORMULA_START, URL_OR_EMAIL, clean_text
from .models import AuditEntry, DuplicateCandidate, Signature
from .validation import is_invisible_only, text_problem

BULLET = re.compile(r"^\s*(?:[•·●▪◦‣*–—-]|\d{1,5}[.)])\s+")
COUNTRY_ALIASES = {
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "us": "US", "united states of america": "US",
    "uk": "GB", "u.k.": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "great britain": "GB",
    "czech republic": "CZ", "holland": "NL", "the netherlands": "NL", "russia": "RU",
    "belarus": "BY", "byelorussia": "BY", "рб": "BY",
}  # fmt: skip
GROUP_HEADINGS = {"former political prisoners": Signature.Group.FORMER_POLITICAL_PRISONER}

SUGGEST_CUTOFF = 80.0


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
    # As written, for the import key: the key must not change when the gazetteer does.
    written: str = ""
    belarus: bool = False
    flags: list[str] = field(default_factory=list)
    same_as: int | None = None  # number of the first identical line (a homonym)

    def describe(self) -> str:
        parts = [self.full_name]
        if self.affiliation:
            parts[0] += f" ({self.affiliation})"
        parts += [p for p in (self.city, self.country) if p]
        return ", ".join(parts)

    def fail(self, reason: str) -> None:
        self.error = self.error or reason


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

    @property
    def flagged(self) -> list[Line]:
        return [line for line in self.valid if line.flags]


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


def suggest_country(text: str, names: dict[str, str]) -> str:
    """ "Deutschland (DE)" for "Doutchland": the closest country name, if close enough."""
    text = text.strip().casefold()
    if len(text) < 4:
        return ""
    choices = [name for name in names if len(name) > 3]
    best = process.extractOne(text, choices, scorer=fuzz.ratio, score_cutoff=SUGGEST_CUTOFF)
    if not best:
        return ""
    code = names[best[0]]
    return f"{best[0].title()} ({code}, {country_name(code, 'en')})"


def split_state(parts: list[str]) -> tuple[list[str], str]:
    """("Hollywood", "FL") or ("WA", "Lynnwood"): the parts without the US state, and its code."""
    for index in (len(parts) - 1, 0):
        if len(parts) >= 2 and (code := places.us_state(parts[index])):
            return [p for i, p in enumerate(parts) if i != index], code
    return parts, ""


def split_location(parts: list[str], names: dict[str, str]) -> tuple[str, str]:
    """(city, country) from the comma-separated parts after the name, as written."""
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
    rest, state = split_state(parts)
    if not state and len(parts) == 1 and len(words) > 1:
        rest, state = split_state([" ".join(words[1:]), words[0]])  # "WA Lynnwood"
        if not state:
            rest, state = split_state([" ".join(words[:-1]), words[-1]])  # "Hollywood FL"
    if state and len(rest) == 1 and places.lookup(rest[0], state=state).known:
        return rest[0], "US"  # "Hollywood, FL", "WA, Lynnwood"
    return ", ".join(parts), ""


def place_line(line: Line, names: dict[str, str], unknown_country: str = "") -> None:
    """Settle the line's country from its city when it has none; flag what staff must check."""
    if line.country == "BY":
        line.belarus = True
    if not line.city:
        if not line.country and not unknown_country:
            line.flags.append("no place given")
        return
    city = line.city.split(",")[0].strip()
    if line.country:
        found = places.lookup(city, line.country)
        if line.country != "BY" and not found.known and places.lookup(city).maybe_belarus:
            line.belarus = True  # "Minsk, Poland": a Belarusian city under another country
            line.flags.append(f"“{city}” is a place in Belarus")
        return
    found = places.lookup(city)
    if found.maybe_belarus:
        line.belarus = True
    if found.country:
        line.country = found.country
        line.flags.append(f"country {found.country} inferred from “{city}”")
    elif found.known:
        line.flags.append(
            f"ambiguous place “{city}” ({', '.join(found.countries)}): country left empty"
        )
    elif suggestion := (not unknown_country and suggest_country(line.city, names)):
        line.fail(f"unknown country “{line.city}”: did you mean {suggestion}?")
    else:
        line.flags.append(f"unknown place “{city}”: country left empty")


def check_name(line: Line) -> None:
    name = line.full_name
    if not name:
        line.fail("no name")
    elif len(name) > 120:
        line.fail("name longer than 120 characters")
    elif URL_OR_EMAIL.search(name):
        line.fail("web or e-mail address in the name")
    elif name.startswith(FORMULA_START):
        line.fail("name starts with =, +, - or @")
    elif any(ch.isdigit() for ch in name):
        line.fail("digits in the name")
    elif not any(ch.isalpha() for ch in name):
        line.fail("no letters in the name")
    elif len(line.affiliation) > 150 or len(line.city) > 100:
        line.fail("role or city too long")


def check_fields(line: Line, raw_role: str, raw_city: str) -> None:
    check_name(line)
    for raw, cleaned, what in ((raw_role, line.affiliation, "role"), (raw_city, line.city, "city")):
        if problem := text_problem(raw, cleaned, what):
            line.fail(problem)


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
        # Split the text as read (invisible characters kept, so that a role made only of them
        # is refused rather than silently emptied), then clean each field.
        body = BULLET.sub("", unicodedata.normalize("NFC", raw).strip())
        name, role, rest, error = split_name_and_role(body)
        line.full_name, line.affiliation, line.error = clean_text(name), clean_text(role), error
        line.written = clean_text(rest).casefold()
        line.city, line.country = split_location([clean_text(p) for p in rest.split(",")], names)
        line.group, line.group_verified = group, group != Signature.Group.SUPPORTER
        raw_city = next((p for p in rest.split(",") if is_invisible_only(p)), rest)
        check_fields(line, role, raw_city)
        if not line.error:
            place_line(line, names)
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
        line.written = f"{line.city}|{country}".casefold()
        line.country = (
            country.upper() if country.upper() in dict(countries) else find_country(country, names)
        )
        if country and not line.country:
            suggestion = suggest_country(country, names)
            line.fail(
                f"unknown country “{country}”"
                + (f": did you mean {suggestion}?" if suggestion else "")
            )
        line.email = get("email")
        if line.email:
            try:
                validate_email(line.email)
            except ValidationError:
                line.fail(f"invalid e-mail address “{line.email}”")
        line.visibility = get("visibility").lower()
        if line.visibility and line.visibility not in Signature.Visibility.values:
            line.fail(f"unknown visibility “{line.visibility}”")
        line.group = get("group").lower() or Signature.Group.SUPPORTER
        if line.group not in Signature.Group.values:
            line.fail(f"unknown group “{line.group}”")
        line.group_verified = get("group_verified").lower() in ("yes", "true", "1")
        check_fields(line, row.get("affiliation") or "", row.get("city") or "")
        if not line.error:
            place_line(line, names, unknown_country=country)
        lines.append(line)
    return lines


def parse(text: str, filename: str = "") -> list[Line]:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    if filename.lower().endswith(".csv") or "full_name" in first:
        return parse_csv(text.lstrip("\ufeff"))
    return parse_list(text)


def import_key(line: Line, occurrence: int = 1) -> str:
    """Keyed with a secret, so the key of a known person's line cannot be computed by someone
    who reads the database; the occurrence tells identical lines (homonyms) apart."""
    content = "|".join([line.full_name, line.affiliation, line.written]).casefold()
    message = f"{content}#{occurrence}".encode()
    return hmac.new(settings.IMPORT_KEY_SECRET.encode(), message, hashlib.sha256).hexdigest()


def settle_visibility(line: Line, default: str | None) -> str:
    """The safest visibility for the line, with the reason flagged for staff."""
    if line.belarus:
        if line.visibility and line.visibility != Signature.Visibility.ANONYMOUS:
            line.flags.append(f"Belarus: imported not listed instead of “{line.visibility}”")
        else:
            line.flags.append("Belarus: imported not listed")
        return Signature.Visibility.ANONYMOUS
    if line.visibility:
        return line.visibility
    if default:
        return default
    line.flags.append("no visibility given: imported as initials only")
    return Signature.Visibility.INITIALS


def import_signatures(
    petition: Petition, text: str, *, source: str, visibility: str | None = None,
    filename: str = "", dry_run: bool = False, actor=None,
) -> Report:  # fmt: skip
    """Parse and (unless dry_run) import; lines that fail are reported, never half-imported.

    `visibility` is staff's choice for lines that carry none (None: initials only). Lines are
    created last to first with one confirmation time, so that the newest-first public list and
    the delivery document's signing order both show them in the file's order.
    """
    report = Report(lines=parse(text, filename))
    seen: Counter[str] = Counter()
    first_of: dict[str, Line] = {}
    todo = []
    for line in report.valid:
        line.visibility = settle_visibility(line, visibility)
        content = import_key(line, 0)
        seen[content] += 1
        if seen[content] > 1:
            line.same_as = first_of[content].number
            line.flags.append(f"same as line {line.same_as}: a second person of that name?")
        else:
            first_of[content] = line
        key = import_key(line, seen[content])
        exists = Signature.objects.filter(petition=petition, import_key=key).exists() or (
            line.email and Signature.find(petition, line.email)
        )
        if exists:
            report.existing += 1
            continue
        report.created += 1
        todo.append((line, key))
    if dry_run or not todo:
        return report
    confirmed_at = timezone.now()
    created: dict[int, Signature] = {}
    for line, key in reversed(todo):
        created[line.number] = create_imported(petition, line, key, source, confirmed_at, actor)
    for line, _key in todo:
        if line.same_as and line.same_as in created:
            raise_homonym(petition, created[line.same_as], created[line.number])
    AuditEntry.record_import(actor, petition, f"{source}: {report.created} imported")
    return report


def create_imported(petition, line: Line, key: str, source: str, confirmed_at, actor) -> Signature:
    now = timezone.now()
    with transaction.atomic():
        signature = Signature(
            petition=petition, status=Signature.Status.CONFIRMED, confirmed_at=confirmed_at,
            full_name=line.full_name, affiliation=line.affiliation, city=line.city,
            country=line.country, visibility=line.visibility, group=line.group,
            group_verified_at=now if line.group_verified else None,
            moderation=(
                Signature.Moderation.UNREVIEWED if line.flags else Signature.Moderation.APPROVED
            ),
            moderated_at=None if line.flags else now, import_flags="; ".join(line.flags)[:300],
            imported_from=source[:200], import_key=key, language=settings.LANGUAGE_CODE,
        )  # fmt: skip
        if line.email:
            signature.set_email(line.email)
        signature._settle(False, "")
    return signature


def raise_homonym(petition: Petition, a: Signature, b: Signature) -> None:
    first, second = sorted((a, b), key=lambda s: s.pk)
    DuplicateCandidate.objects.get_or_create(
        first=first, second=second, defaults={"petition": petition, "score": 100.0}
    )
