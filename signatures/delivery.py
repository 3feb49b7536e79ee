"""The delivery document: what the campaign hands to a government, printed from the data.

Cover with the count and date, the petition's text in the chosen language, then the public
signatories grouped as on the site (former political prisoners first), in columns, with page
numbers, and a table per country.

Two engines, each where it is best (figures: `bench/delivery_engines.py`): WeasyPrint sets the
few pages of cover and text from the same Markdown as the site; Typst sets the list, which may
hold 100,000 names, in parts of `PART_SIZE` names; pypdf joins the parts. Each runs in a fresh
child process (`releasenow/lib/typesetting.py`): memory stays flat and time linear in the size.
Only system fonts are used (DejaVu covers Cyrillic and Latin diacritics); nothing is fetched
from the network.

Staff choose a subset (countries, one group) and an order: signing order (imported lists keep
their published order) or alphabetical by family name with the document language's collation
(ICU). Dates are written by CLDR (Babel) in the document's language.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from babel.dates import format_date
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from campaigns.models import Petition
from releasenow.lib.countries import country_name
from releasenow.lib.typesetting import Typesetter

from .models import VERIFIED_FORMER_PRISONER, CountryCount, Signature

PART_SIZE = 5000
COUNTRY_ROWS_PER_TABLE = 45
TEMPLATE = Path(__file__).with_name("delivery.typ")  # Typst, not a Django template
VERIFIED_RELATIVE = Q(group="relative", group_verified_at__isnull=False)


class Order:
    SIGNING = "signing"
    ALPHABETICAL = "alphabetical"
    CHOICES = [
        (SIGNING, "signing order (imported lists in their published order)"),
        (ALPHABETICAL, "alphabetical by family name (the document language's collation)"),
    ]


GROUPS = [
    ("", "all signatories"),
    (Signature.Group.FORMER_POLITICAL_PRISONER, "former political prisoners (verified)"),
    (Signature.Group.RELATIVE, "relatives of political prisoners (verified)"),
    (Signature.Group.SUPPORTER, "supporters (everyone else)"),
]


@dataclass
class Selection:
    """Which signatories, in which order: what staff chose. Holds no personal data."""

    language: str = "en"
    countries: list[str] = field(default_factory=list)
    group: str = ""
    order: str = Order.SIGNING

    def signatures(self, petition: Petition):
        rows = Signature.objects.public().filter(petition=petition)
        if self.countries:
            rows = rows.filter(country__in=self.countries)
        if self.group == Signature.Group.FORMER_POLITICAL_PRISONER:
            rows = rows.filter(VERIFIED_FORMER_PRISONER)
        elif self.group == Signature.Group.RELATIVE:
            rows = rows.filter(VERIFIED_RELATIVE)
        elif self.group == Signature.Group.SUPPORTER:
            rows = rows.exclude(VERIFIED_FORMER_PRISONER).exclude(VERIFIED_RELATIVE)
        return rows

    def describe(self) -> str:
        parts = [self.language, dict(Order.CHOICES)[self.order].split(" (")[0]]
        if self.group:
            parts.append(dict(GROUPS)[self.group])
        if self.countries:
            parts.append(", ".join(self.countries))
        return "; ".join(parts)


Progress = Callable[[float, str], None]


def localised_date(date: datetime.date, language: str) -> str:
    """ "23 лістапада 2026 г.", "2026 m. lapkričio 23 d.": CLDR's long date for the language."""
    return format_date(date, format="long", locale=language)


@functools.cache
def collator(language: str):
    import icu

    return icu.Collator.createInstance(icu.Locale(language))


def family_name(full_name: str) -> str:
    """The last word: lists are written given name first. Initials sort by the full name too."""
    words = full_name.replace(",", " ").split()
    return words[-1] if words else ""


def entry(signature: Signature) -> tuple[str, str]:
    """(name, what follows it) exactly as far as the signer chose to be shown."""
    details = ""
    if signature.visibility == Signature.Visibility.PUBLIC and signature.affiliation:
        details = f" ({signature.affiliation})"
    if shown := signature.public_details():
        details += f", {shown}"
    return signature.public_name(), details


FIELDS = ("id", "full_name", "affiliation", "city", "country", "visibility", "confirmed_at")


def ordered(rows, selection: Selection) -> Iterator[Signature]:
    """Signing order streams from the database; alphabetical order sorts in memory (one short
    key per name, linear in the list's size)."""
    rows = rows.only(*FIELDS)
    if selection.order != Order.ALPHABETICAL:
        # Imported lines share one time and were created last to first: -id keeps their order.
        yield from rows.order_by("confirmed_at", "-id").iterator(chunk_size=5000)
        return
    key = collator(selection.language).getSortKey
    people = list(rows.iterator(chunk_size=5000))
    people.sort(key=lambda s: (key(family_name(s.full_name)), key(s.full_name), s.pk))
    yield from people


def front_html(petition: Petition, selection: Selection, listed: int) -> str:
    language = selection.language
    with translation.override(language):
        petition.set_current_language(language)
        state = petition.translation_state(language)
        return render_to_string(
            "signatures/delivery.html",
            {
                "petition": petition,
                "fallback": petition.is_fallback(language),
                "outdated": state == "outdated",
                "translated": state in ("unreviewed", "reviewed", "outdated"),
                "listed": listed,
                "date": localised_date(timezone.localdate(), language),
                "selection": selection.describe() if selection.group or selection.countries else "",
                "LANGUAGE_CODE": language,
            },
        )


def build_delivery(
    petition: Petition, selection: Selection, output: Path, progress: Progress | None = None
) -> int:
    """Write the document to `output`; returns its number of pages.

    Every PDF part is made in a child process (see `Typesetter`); this process only reads the
    database and prepares the next part while the previous one is being set.
    """
    progress = progress or (lambda fraction, message: None)
    language = selection.language
    rows = selection.signatures(petition)
    listed = rows.count()
    output.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="delivery-", dir=output.parent) as tmp,
        Typesetter(TEMPLATE, Path(tmp)) as typesetter,
        translation.override(language),
    ):
        front, pages = typesetter.html(front_html(petition, selection, listed), "front")
        parts, page, done = [front], pages + 1, 0
        progress(0.02, "cover and text set")
        pending = None
        # A generator: one part's names in memory at a time, whatever the list's size.
        sources = itertools.chain(list_parts(rows, selection), country_part(petition, selection))
        for number, (data, names) in enumerate(sources):
            prepared = typesetter.prepare(f"part{number:04}", data)
            if pending:
                path, pages = pending.result()
                parts.append(path)
                page += pages
            pending = typesetter.start(prepared, page)
            done += names
            progress(0.02 + 0.9 * done / max(listed, 1), f"{done} of {listed} names")
        path, pages = pending.result()
        parts.append(path)
        progress(0.95, "joining the parts")
        title = petition.safe_translation_getter("title", any_language=True) or petition.slug
        return typesetter.join(parts, output, title)


def list_parts(rows, selection: Selection) -> Iterator[tuple[dict, int]]:
    """The data of each list part, former political prisoners first, `PART_SIZE` names each."""
    sections = [
        (rows.filter(VERIFIED_FORMER_PRISONER), "Former political prisoners", False),
        (rows.exclude(VERIFIED_FORMER_PRISONER), "Signatories", True),
    ]
    for queryset, title, always in sections:
        heading, chunk, empty = gettext(title), [], True
        for signature in ordered(queryset, selection):
            chunk.append(entry(signature))
            if len(chunk) == PART_SIZE:
                yield list_data(heading, chunk, selection), len(chunk)
                heading, chunk, empty = "", [], False
        if chunk or (empty and always):
            yield list_data(heading, chunk, selection), len(chunk)


def country_part(petition: Petition, selection: Selection) -> Iterator[tuple[dict, int]]:
    """The table of signatures by country, the document's last part (read when it is due)."""
    yield countries_data(petition, selection), 0


def list_data(heading: str, entries: list, selection: Selection) -> dict:
    return {
        "kind": "list",
        "title": heading,
        "heading": heading,
        "entries": entries,
        "lang": selection.language,
    }


def countries_data(petition: Petition, selection: Selection) -> dict:
    from django.utils.formats import number_format

    counts = CountryCount.for_petition(petition)
    if selection.countries:
        counts = [c for c in counts if c.country in selection.countries]
    rows = [
        [
            country_name(c.country, selection.language) or gettext("Not given"),
            number_format(c.count, use_l10n=True, force_grouping=True),
        ]
        for c in counts
    ]
    tables = [
        rows[i : i + COUNTRY_ROWS_PER_TABLE] for i in range(0, len(rows), COUNTRY_ROWS_PER_TABLE)
    ]
    return {
        "kind": "countries",
        "title": gettext("Signatures by country"),
        "heading": gettext("Signatures by country"),
        "labels": [gettext("Country"), gettext("Signatures")],
        "tables": tables or [[]],
        "lang": selection.language,
    }
