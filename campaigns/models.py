"""What a visitor reads: the campaign, its petitions, page sections, portraits, quotes, figures.

Every visible text is data, edited in the admin in Markdown and kept per language (django-parler
translation tables). A text missing in the visitor's language falls back to English, and the
page says so (`Translatable.is_fallback`).
"""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language, gettext
from django_countries.fields import CountryField
from parler.models import TranslatableModel, TranslatedFields

from releasenow.lib import l10n
from releasenow.lib.countries import country_name

from .charts import bar_geometry, line_geometry

SOURCE_LANGUAGE = settings.PARLER_DEFAULT_LANGUAGE_CODE


def is_document_url(url: str) -> bool:
    """A link to one document rather than a site's homepage (`/`, `/en`, `/en/`)."""
    parts = urlsplit(url or "")
    segments = [s for s in parts.path.split("/") if s]
    if parts.query:
        return True
    return bool(segments) and not (len(segments) == 1 and len(segments[0]) <= 3)


META_FIELDS = ("translation_of", "reviewed")


def translated(**fields) -> TranslatedFields:
    """Per-language fields, plus what every translation records about itself: the version of
    the English text it translates, and whether the campaign has reviewed it."""
    return TranslatedFields(
        **fields,
        translation_of=models.PositiveIntegerField(
            null=True,
            blank=True,
            help_text="Version of the English text this translates (empty for English).",
        ),
        reviewed=models.BooleanField(
            default=False,
            help_text="Checked by the campaign; until then pages say it is a translation.",
        ),
    )


class Translatable(TranslatableModel):
    """Shared behaviour of every model whose texts are kept per language."""

    # Moves on whenever the English text changes; translations of an older one are outdated.
    english_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True

    def save_translation(self, translation, *args, **kwargs):
        """An edited English text makes the translations of the previous one outdated; a new
        translation records which English version it translates."""
        if translation.language_code == SOURCE_LANGUAGE:
            if translation.pk and self._english_content_changed(translation):
                self.note_english_change()
        elif translation.translation_of is None:
            translation.translation_of = self.english_version
        super().save_translation(translation, *args, **kwargs)

    def _english_content_changed(self, translation) -> bool:
        stored = type(translation).objects.filter(pk=translation.pk).values().first() or {}
        return any(
            stored.get(name) != getattr(translation, name)
            for name in translation.get_translated_fields()
            if name not in META_FIELDS
        )

    def note_english_change(self) -> None:
        type(self).objects.filter(pk=self.pk).update(
            english_version=models.F("english_version") + 1
        )
        self.refresh_from_db(fields=["english_version"])

    def translation_state(self, language: str | None = None) -> str:
        """source, missing (English shown), outdated, unreviewed or reviewed."""
        language = language or get_language() or SOURCE_LANGUAGE
        if language == SOURCE_LANGUAGE:
            return "source"
        if not self.has_translation(language):
            return "missing"
        translation = self.get_translation(language)
        if (translation.translation_of or 0) < self.english_version:
            return "outdated"
        return "reviewed" if translation.reviewed else "unreviewed"

    def translation_summary(self) -> dict[str, str]:
        """State of every site language, for the admin."""
        return {code: self.translation_state(code) for code, _name in settings.LANGUAGES}

    def is_fallback(self, language: str | None = None) -> bool:
        """True when the visitor's language has no text and the English source is shown."""
        language = language or get_language() or SOURCE_LANGUAGE
        return language != SOURCE_LANGUAGE and not self.has_translation(language)

    @property
    def shown_language(self) -> str:
        """The language the shown text is really in (for the `lang` attribute)."""
        language = get_language() or SOURCE_LANGUAGE
        return SOURCE_LANGUAGE if self.is_fallback(language) else language


class Petition(Translatable):
    """A text people sign. The campaign's manifesto is the petition with slug `manifesto`."""

    slug = models.SlugField(unique=True)
    text_version = models.PositiveIntegerField(
        default=1, help_text="Raise when the signed wording changes."
    )
    text_date = models.DateField("date of the text", null=True, blank=True)
    is_open = models.BooleanField("open for signatures", default=True)

    class Moderation(models.TextChoices):
        PRE = "pre", "pre-moderation: names appear once staff approved them"
        POST = "post", "post-moderation: names appear at once, staff can hide them"

    moderation = models.CharField(max_length=4, choices=Moderation.choices, default=Moderation.PRE)
    # Maintained atomically by the signatures app; read on every page, never COUNT(*)-ed.
    signature_count = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    translations = translated(
        title=models.CharField("title", max_length=200),
        lead=models.CharField(
            "lead",
            max_length=400,
            blank=True,
            help_text="One or two sentences for link previews.",
        ),
        body=models.TextField("text (Markdown)"),
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.safe_translation_getter("title", any_language=True) or self.slug

    @property
    def shows_count(self) -> bool:
        """Headers show the count from SIGNATURE_COUNT_SHOWN_FROM on; below it, "0 people
        signed" would discourage, so they invite visitors to be among the first."""
        return self.signature_count >= settings.SIGNATURE_COUNT_SHOWN_FROM

    @property
    def pre_moderated(self) -> bool:
        return self.moderation == self.Moderation.PRE

    def get_absolute_url(self) -> str:
        if self.slug == "manifesto":
            return reverse("campaigns:manifesto")
        return reverse("campaigns:petition", args=[self.slug])


class CampaignQuerySet(models.QuerySet):
    def current(self) -> Campaign | None:
        """The campaign this site runs (one per site; the first if several were loaded)."""
        return self.select_related("petition").order_by("pk").first()


class Campaign(Translatable):
    key = models.SlugField(unique=True)
    hashtag = models.CharField(max_length=100, blank=True, help_text="Without the #.")
    launched_on = models.DateField(null=True, blank=True)
    contact_email = models.EmailField(
        blank=True, help_text="Where visitors write, e.g. about their data. Shown on every page."
    )
    # Who answers for the site (imprint); pages mention only what is filled in here.
    publisher = models.CharField(
        max_length=200, blank=True, help_text="The organisation legally responsible for the site."
    )
    postal_address = models.TextField(blank=True, help_text="The publisher's postal address.")
    # Proper nouns (partners, sources) as readers of each language write them.
    names = models.JSONField(
        "names per language",
        default=dict,
        blank=True,
        help_text="Names of organisations and people as written in each language, e.g. "
        '{"Viasna": {"be": "Вясна", "ru": "Вясна"}}. Names not listed are shown as they are.',
    )
    petition = models.ForeignKey(
        Petition,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text="The text the campaign asks people to sign.",
    )

    translations = translated(
        name=models.CharField("name", max_length=200),
        tagline=models.CharField("tagline", max_length=300, blank=True),
        description=models.CharField(
            "description",
            max_length=400,
            blank=True,
            help_text="For search engines and link previews.",
        ),
    )

    objects = CampaignQuerySet.as_manager()

    def __str__(self) -> str:
        return self.safe_translation_getter("name", any_language=True) or self.key

    def local_name(self, name: str, language: str | None = None) -> str:
        """`name` as readers of the language write it, from `names`; else unchanged."""
        language = language or get_language() or SOURCE_LANGUAGE
        return ((self.names or {}).get(name) or {}).get(language) or name

    def missing_imprint_details(self) -> list[str]:
        """What the imprint and privacy notice still lack; staff are warned in the admin."""
        return [
            label
            for label, value in (
                ("publisher", self.publisher),
                ("postal address", self.postal_address),
                ("contact e-mail", self.contact_email),
            )
            if not value.strip()
        ]


# An origin as a Content-Security-Policy source: scheme, host (optionally *.), optional port.
ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:[0-9]{1,5})?$")


class Partner(models.Model):
    """An organisation that runs the campaign. Names are proper nouns: not translated."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="partners")
    key = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    url = models.URLField(blank=True)
    logo = models.ImageField(upload_to="partners/", blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    # Where the partner may show the embedded sign form (`/<lang>/<slug>/embed/?partner=key`):
    # the embed route's `frame-ancestors`. Every other page keeps `frame-ancestors 'none'`.
    embed_origins = models.TextField(
        "sites that may embed the sign form",
        blank=True,
        help_text="One origin per line, e.g. https://partner.example or https://*.partner.example "
        "(scheme and host, no path).",
    )
    embed_anywhere = models.BooleanField(
        "any site may embed the sign form",
        default=False,
        help_text="Lets every website show this partner's embed (the list above is ignored).",
    )

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def embed_origin_list(self) -> list[str]:
        """The allowed origins, each checked again: they end up in a response header."""
        lines = (line.strip().lower().rstrip("/") for line in self.embed_origins.splitlines())
        return [line for line in lines if ORIGIN.match(line)]

    def frame_ancestors(self) -> list[str]:
        """Our own origin (the staff preview) and the partner's sites, or any site."""
        return ["'self'", "*"] if self.embed_anywhere else ["'self'", *self.embed_origin_list()]

    def clean(self) -> None:
        bad = [
            line.strip()
            for line in self.embed_origins.splitlines()
            if line.strip() and not ORIGIN.match(line.strip().lower().rstrip("/"))
        ]
        if bad:
            raise ValidationError(
                {
                    "embed_origins": "Not an origin (scheme and host only, e.g. "
                    f"https://partner.example): {', '.join(bad)}"
                }
            )
        self.embed_origins = "\n".join(self.embed_origin_list())


class Section(Translatable):
    """A block of text on the campaign page; the page template places it by its key."""

    class Extra(models.TextChoices):
        NONE = "", "nothing"
        PARTNERS = "partners", "the partner organisations"
        SIGN = "sign", "the call to sign, with the count"

    key = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField(default=0)
    extra = models.CharField(
        max_length=20, choices=Extra.choices, blank=True, help_text="Shown after the text."
    )

    translations = translated(
        title=models.CharField("title", max_length=200),
        body=models.TextField("text (Markdown)", blank=True),
    )

    class Meta:
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.safe_translation_getter("title", any_language=True) or self.key


class Portrait(Translatable):
    """One line of "Who are they?": a person behind the number, described without a name."""

    key = models.SlugField(unique=True)
    section = models.SlugField(
        blank=True, help_text="Key of the campaign-page section it is shown in."
    )
    order = models.PositiveSmallIntegerField(default=0)

    translations = translated(text=models.CharField("text", max_length=300))

    class Meta:
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.safe_translation_getter("text", any_language=True) or self.key


class Quote(Translatable):
    """A voice of the campaign: original wording kept, translations beside it."""

    key = models.SlugField(unique=True)
    section = models.SlugField(help_text="Key of the campaign-page section it belongs to.")
    speaker = models.CharField(max_length=200)
    original_text = models.TextField()
    original_language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="en")
    order = models.PositiveSmallIntegerField(default=0)

    translations = translated(
        text=models.TextField(
            "translation", blank=True, help_text="Empty in the quote's original language."
        ),
        speaker_name=models.CharField(
            "speaker's name",
            max_length=200,
            blank=True,
            help_text="In this language's script; empty to show the name as written above.",
        ),
        speaker_role=models.CharField("speaker's role", max_length=200, blank=True),
        source=models.CharField("source", max_length=300, blank=True),
    )

    class Meta:
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return f"{self.speaker}: {self.original_text[:50]}"

    @property
    def speaker_local(self) -> str:
        return self.safe_translation_getter("speaker_name") or self.speaker

    def shown_text(self) -> str:
        """The quote in the visitor's language when translated, else in the original."""
        language = get_language() or SOURCE_LANGUAGE
        if language != self.original_language and self.has_translation(language):
            return (
                self.safe_translation_getter("text", language_code=language) or self.original_text
            )
        return self.original_text

    def is_translated(self) -> bool:
        return self.shown_text() != self.original_text


class Qualifier(models.TextChoices):
    EXACT = "exact", "exactly"
    ABOUT = "about", "about"
    MORE_THAN = "more_than", "more than"
    AT_LEAST = "at_least", "at least"


class SourcedValue(models.Model):
    """A number with its qualifier, its source and the date it was true."""

    value = models.DecimalField(max_digits=12, decimal_places=1)
    qualifier = models.CharField(max_length=10, choices=Qualifier.choices, default=Qualifier.EXACT)
    as_of = models.DateField("as of", null=True, blank=True)
    source = models.CharField(max_length=200, blank=True)
    source_url = models.URLField(blank=True)
    # A number the campaign's brief states is shown as it is; any other needs the exact source
    # document and a member of staff who checked the number against it.
    in_brief = models.BooleanField(
        "stated in the campaign's brief",
        default=False,
        help_text="The campaign's own texts state this number.",
    )
    verified = models.BooleanField(
        "verified by staff",
        default=False,
        help_text="A member of staff checked the number against the exact source document "
        "linked here. Numbers outside the brief are shown only once verified.",
    )

    class Meta:
        abstract = True

    @property
    def is_public(self) -> bool:
        return self.in_brief or self.verified

    def clean(self) -> None:
        super().clean()
        if self.verified and not self.in_brief and not is_document_url(self.source_url):
            raise ValidationError(
                {"source_url": "Link the exact document the number is taken from, not a homepage."}
            )

    def formatted_number(self) -> str:
        return l10n.number(self.value)

    def display_value(self) -> str:
        """ "more than 1,100" in the visitor's language and number format."""
        number = self.formatted_number()
        if self.qualifier == Qualifier.ABOUT:
            return gettext("about %(number)s") % {"number": number}
        if self.qualifier == Qualifier.MORE_THAN:
            return gettext("more than %(number)s") % {"number": number}
        if self.qualifier == Qualifier.AT_LEAST:
            return gettext("at least %(number)s") % {"number": number}
        return number


class Figure(Translatable, SourcedValue):
    """A headline number (political prisoners held now, released early, …)."""

    key = models.SlugField(unique=True)
    section = models.SlugField(
        blank=True, help_text="Key of the campaign-page section it is shown in."
    )
    order = models.PositiveSmallIntegerField(default=0)

    translations = translated(
        label=models.CharField("label", max_length=300),
    )

    class Meta:
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.safe_translation_getter("label", any_language=True) or self.key


class Chart(Translatable):
    """A set of sourced numbers drawn as an inline-SVG chart: bars by country, or a line in time."""

    class Kind(models.TextChoices):
        BAR = "bar", "bars by country"
        LINE = "line", "line over time"

    key = models.SlugField(unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    section = models.SlugField(
        blank=True, help_text="Key of the campaign-page section it is shown in."
    )
    order = models.PositiveSmallIntegerField(default=0)

    translations = translated(
        title=models.CharField("title", max_length=200),
        description=models.TextField("description", blank=True),
        unit=models.CharField("unit", max_length=100, blank=True),
    )

    class Meta:
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.safe_translation_getter("title", any_language=True) or self.key

    def geometry(self) -> dict:
        return bar_geometry(self) if self.kind == self.Kind.BAR else line_geometry(self)

    def narrow_geometry(self) -> dict:
        """The line chart drawn for phones; bar charts fit any width as they are."""
        return line_geometry(self, narrow=True) if self.kind == self.Kind.LINE else {}

    @property
    def is_public(self) -> bool:
        """A chart is drawn only when every point is from the brief or verified: leaving out
        the unverified ones would draw a different line than the source's."""
        points = self.points.all()
        return bool(points) and all(point.is_public for point in points)

    def as_of(self) -> datetime.date | None:
        """The date the chart's numbers were true (the latest of its points)."""
        return max((p.as_of for p in self.points.all() if p.as_of), default=None)

    def shown_points(self) -> list[ChartPoint]:
        """The points the public sees: from the campaign's brief or verified by staff."""
        return [point for point in self.points.all() if point.is_public]

    def sources(self) -> list[tuple[str, str]]:
        """Distinct (source, url) pairs of the points, in order of appearance."""
        seen: dict[str, str] = {}
        for point in self.shown_points():
            if point.source and point.source not in seen:
                seen[point.source] = point.source_url
        return list(seen.items())


class ChartPoint(SourcedValue):
    chart = models.ForeignKey(Chart, on_delete=models.CASCADE, related_name="points")
    country = CountryField(blank=True, help_text="For bar charts by country.")
    date = models.DateField(null=True, blank=True, help_text="For line charts over time.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "date", "pk"]

    def __str__(self) -> str:
        return f"{self.country.code or self.date}: {self.value}"

    @property
    def label(self) -> str:
        if self.country:
            return country_name(self.country.code)
        return l10n.month_year(self.date)


class Page(Translatable):
    """A plain page: privacy policy, imprint."""

    slug = models.SlugField(unique=True)

    translations = translated(
        title=models.CharField("title", max_length=200),
        body=models.TextField("text (Markdown)"),
    )

    def __str__(self) -> str:
        return self.safe_translation_getter("title", any_language=True) or self.slug
