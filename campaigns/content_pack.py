"""Content packs: a campaign's texts as a folder of YAML and Markdown, kept in version control.

Layout of a pack folder:

    pack.yaml                  language-independent data, one list per kind (see KINDS)
    <lang>/<kind>/<key>.md     the texts of one object in one language: YAML front matter for
                               the short fields, the Markdown body for the long one
    logos/                     partner logo files named in pack.yaml

`load_pack` never overwrites what is in the database: an object (or one of its texts) that
exists already is kept as it is, per object, and reported when the pack differs; only `force`
replaces it. A text the object lacks is added; when the object's English text is not the pack's,
the added translation is marked outdated (it translates another version). A second run reports
nothing created or updated. `dump_pack` writes the same layout back.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import frontmatter
import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction

from .models import (
    META_FIELDS,
    SOURCE_LANGUAGE,
    Campaign,
    Chart,
    ChartPoint,
    Figure,
    Page,
    Partner,
    Petition,
    Portrait,
    Quote,
    Section,
)

LANGUAGES = [code for code, _name in settings.LANGUAGES]


class ContentPackError(Exception):
    """The pack cannot be loaded; the message says which file and why."""


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[models.Model]
    key: str = "key"
    fields: tuple[str, ...] = ()
    refs: dict[str, tuple[type[models.Model], str]] = field(default_factory=dict)
    body: str | None = None  # the translated field kept as the Markdown body
    points: bool = False  # charts carry their points inline

    @property
    def translated(self) -> tuple[str, ...]:
        if not hasattr(self.model, "_parler_meta"):
            return ()
        return tuple(
            name
            for name in self.model._parler_meta.get_translated_fields()
            if name not in ("id", "language_code", "master")
        )


POINT_FIELDS = (
    "country",
    "date",
    "value",
    "qualifier",
    "as_of",
    "source",
    "source_url",
    "in_brief",
    "verified",
)
SOURCED = ("value", "qualifier", "as_of", "source", "source_url", "in_brief", "verified")

# In load order: a kind comes after the kinds it refers to.
KINDS = [
    Kind(
        "petitions",
        Petition,
        key="slug",
        fields=("text_version", "text_date", "is_open", "moderation"),
        body="body",
    ),
    Kind(
        "campaign",
        Campaign,
        fields=("hashtag", "launched_on", "contact_email", "publisher", "postal_address", "names"),
        refs={"petition": (Petition, "slug")},
    ),
    Kind(
        "partners",
        Partner,
        fields=("name", "url", "order", "logo"),
        refs={"campaign": (Campaign, "key")},
    ),
    Kind("sections", Section, fields=("order", "extra"), body="body"),
    Kind("figures", Figure, fields=("section", "order", *SOURCED)),
    Kind("charts", Chart, fields=("kind", "section", "order"), points=True),
    Kind("portraits", Portrait, fields=("section", "order")),
    Kind(
        "quotes",
        Quote,
        fields=("section", "order", "speaker", "original_language", "original_text"),
        body="text",
    ),
    Kind("pages", Page, key="slug", body="body"),
]


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # in the database and different from the pack
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        summary = (
            f"{len(self.created)} created, {len(self.updated)} updated, {self.unchanged} unchanged"
        )
        if self.kept:
            summary += f", {len(self.kept)} kept as edited on the site (--force replaces them)"
        return summary


def plain(value):
    """A field value as YAML would hold it, so pack and database compare equal."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "code") and hasattr(value, "flag"):  # django-countries Country
        return value.code or ""
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


def to_field(model: type[models.Model], name: str, value, where: str):
    model_field = model._meta.get_field(name)
    if value is None and model_field.has_default():
        value = model_field.get_default()
    if value is None and not model_field.null:
        value = "" if isinstance(model_field, models.CharField | models.TextField) else value
    try:
        return plain(model_field.to_python(value))
    except ValidationError as e:
        raise ContentPackError(f"{where}: {name}: {'; '.join(e.messages)}") from e


def read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ContentPackError(f"{path}: {e}") from e
    if not isinstance(data, dict):
        raise ContentPackError(f"{path}: expected a mapping of kinds to lists")
    return data


def entries(data: dict, kind: Kind) -> list[dict]:
    items = data.get(kind.name) or []
    if isinstance(items, dict):
        items = [items]
    for item in items:
        if not isinstance(item, dict) or not item.get(kind.key):
            raise ContentPackError(f"pack.yaml: every entry of {kind.name} needs a {kind.key}")
    return items


def check_folders(root: Path, data: dict) -> None:
    """Every folder and text file of the pack must be one `load_pack` reads: a typo such as
    `en/petition/` would otherwise be skipped in silence."""
    translated = {kind.name: kind for kind in KINDS if kind.translated}
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or path.name in ("pack.yaml", "logos", "README.md"):
            continue
        if not path.is_dir() or path.name not in LANGUAGES:
            raise ContentPackError(
                f"{path.name}: unknown {'folder' if path.is_dir() else 'file'} in the pack "
                f"(expected pack.yaml, logos/ and language folders {', '.join(LANGUAGES)})"
            )
        for folder in sorted(path.iterdir()):
            if folder.name.startswith("."):
                continue
            if not folder.is_dir() or folder.name not in translated:
                raise ContentPackError(
                    f"{path.name}/{folder.name}: unknown folder "
                    f"(expected one of {', '.join(sorted(translated))})"
                )
            kind = translated[folder.name]
            keys = {str(item[kind.key]) for item in entries(data, kind)}
            for file in sorted(folder.iterdir()):
                if file.name.startswith("."):
                    continue
                if file.suffix != ".md" or file.stem not in keys:
                    raise ContentPackError(
                        f"{path.name}/{folder.name}/{file.name}: no {kind.name} entry "
                        f"“{file.stem}” in pack.yaml"
                    )


@transaction.atomic
def load_pack(directory: str | Path, force: bool = False) -> Report:
    """Create what the pack holds and the database lacks; with `force`, also replace what
    differs. Leave what it does not mention alone."""
    root = Path(directory)
    if not (root / "pack.yaml").is_file():
        raise ContentPackError(f"{root}: no pack.yaml here")
    data = read_yaml(root / "pack.yaml")
    unknown = set(data) - {kind.name for kind in KINDS}
    if unknown:
        raise ContentPackError(f"pack.yaml: unknown kinds {', '.join(sorted(unknown))}")
    check_folders(root, data)
    report = Report()
    for kind in KINDS:
        for item in entries(data, kind):
            obj, existed = load_object(root, kind, item, report, force)
            if kind.translated:
                english = root / SOURCE_LANGUAGE / kind.name / f"{item[kind.key]}.md"
                if not english.is_file() and not obj.has_translation(SOURCE_LANGUAGE):
                    raise ContentPackError(f"{english.relative_to(root)}: missing (English text)")
                for language in LANGUAGES:
                    path = root / language / kind.name / f"{item[kind.key]}.md"
                    if path.is_file():
                        load_translation(kind, obj, language, path, report, force, english)
    return report


def load_object(
    root: Path, kind: Kind, item: dict, report: Report, force: bool = False
) -> tuple[models.Model, bool]:
    key = item[kind.key]
    where = f"pack.yaml: {kind.name}/{key}"
    unknown = set(item) - {kind.key, *kind.fields, *kind.refs, "points"}
    if unknown:
        raise ContentPackError(f"{where}: unknown fields {', '.join(sorted(unknown))}")
    obj = kind.model.objects.filter(**{kind.key: key}).first()
    created = obj is None
    if created:
        obj = kind.model(**{kind.key: key})
    if not created and not force:
        differs = differing_fields(root, kind, obj, item, where)
        label = f"{kind.name}/{key}"
        if differs:
            report.kept.append(f"{label} ({', '.join(differs)})")
        else:
            report.unchanged += 1
        return obj, True
    changed = []
    for name in kind.fields:
        if name not in item:
            continue
        if name == "logo":
            if set_file(obj, name, root, item[name]):
                changed.append(name)
            continue
        value = to_field(kind.model, name, item[name], where)
        if plain(getattr(obj, name)) != value:
            setattr(obj, name, value)
            changed.append(name)
    for name, (ref_model, ref_key) in kind.refs.items():
        if name not in item:
            continue
        target = ref_model.objects.filter(**{ref_key: item[name]}).first() if item[name] else None
        if item[name] and target is None:
            raise ContentPackError(f"{where}: {name} {item[name]!r} is not in the pack")
        if getattr(obj, f"{name}_id") != (target.pk if target else None):
            setattr(obj, name, target)
            changed.append(name)
    if created or changed:
        obj.save()
    if kind.points and load_points(obj, item.get("points") or [], where):
        changed.append("points")
    label = f"{kind.name}/{key}"
    if created:
        report.created.append(label)
    elif changed:
        report.updated.append(f"{label} ({', '.join(changed)})")
    else:
        report.unchanged += 1
    return obj, not created


def differing_fields(root: Path, kind: Kind, obj, item: dict, where: str) -> list[str]:
    """The fields where the database differs from the pack (without changing anything)."""
    differs = []
    for name in kind.fields:
        if name in item and name != "logo":
            value = to_field(kind.model, name, item[name], where)
            if plain(getattr(obj, name)) != value:
                differs.append(name)
    for name, (_ref_model, ref_key) in kind.refs.items():
        if name in item:
            target = getattr(obj, name)
            if (getattr(target, ref_key) if target else "") != (item[name] or ""):
                differs.append(name)
    if kind.points:
        current = [
            {n: plain(getattr(p, n)) for n in POINT_FIELDS}
            for p in obj.points.order_by("order", "pk")
        ]
        wanted = [
            {n: to_field(ChartPoint, n, p.get(n), where) for n in POINT_FIELDS}
            for p in item.get("points") or []
        ]
        if current != wanted:
            differs.append("points")
    return differs


def set_file(obj: models.Model, name: str, root: Path, relative: str) -> bool:
    """Store the pack's file in the media storage unless the same bytes are there already."""
    current = getattr(obj, name)
    if not relative:
        if current:
            setattr(obj, name, "")
            return True
        return False
    path = root / relative
    if not path.is_file():
        raise ContentPackError(f"pack.yaml: {relative}: no such file in the pack")
    content = path.read_bytes()
    if current:
        try:
            with current.open("rb") as f:
                if hashlib.sha256(f.read()).digest() == hashlib.sha256(content).digest():
                    return False
        except OSError:
            pass
    current.save(path.name, ContentFile(content), save=False)
    return True


def load_points(chart: Chart, points: list[dict], where: str) -> bool:
    """Replace the chart's points when they differ from the pack's, in the pack's order."""
    wanted = []
    for order, point in enumerate(points):
        unknown = set(point) - set(POINT_FIELDS)
        if unknown:
            raise ContentPackError(f"{where}: points: unknown fields {', '.join(sorted(unknown))}")
        values = {name: to_field(ChartPoint, name, point.get(name), where) for name in POINT_FIELDS}
        wanted.append({**values, "order": order})
    current = [
        {name: plain(getattr(p, name)) for name in (*POINT_FIELDS, "order")}
        for p in chart.points.order_by("order", "pk")
    ]
    if current == wanted:
        return False
    chart.points.all().delete()
    ChartPoint.objects.bulk_create(ChartPoint(chart=chart, **values) for values in wanted)
    return True


def read_text_file(kind: Kind, path: Path) -> dict:
    """The fields of one text file; a required field (a title, the text) must be there."""
    try:
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, ValueError) as e:
        raise ContentPackError(f"{path}: {e}") from e
    values = dict(post.metadata)
    if kind.body:
        values[kind.body] = post.content.strip()
    unknown = set(values) - set(kind.translated)
    if unknown:
        raise ContentPackError(f"{path}: unknown fields {', '.join(sorted(unknown))}")
    translation_model = kind.model._parler_meta.root_model
    for name in kind.translated:
        model_field = translation_model._meta.get_field(name)
        if name in META_FIELDS or model_field.blank or model_field.has_default():
            continue
        if values.get(name) in (None, ""):
            where = "the text after the front matter" if name == kind.body else f"“{name}:”"
            raise ContentPackError(f"{path}: required field {name} is missing ({where})")
    return values


def english_matches_pack(kind: Kind, obj, english: Path) -> bool:
    """True when the object's English text in the database is the pack's."""
    if not english.is_file() or not obj.has_translation(SOURCE_LANGUAGE):
        return english.is_file()
    stored = obj.get_translation(SOURCE_LANGUAGE)
    translation_model = kind.model._parler_meta.root_model
    values = read_text_file(kind, english)
    return all(
        getattr(stored, name) == to_field(translation_model, name, value, str(english))
        for name, value in values.items()
        if name not in META_FIELDS
    )


def load_translation(
    kind: Kind, obj, language: str, path: Path, report: Report, force: bool = False,
    english: Path | None = None,
) -> None:  # fmt: skip
    values = read_text_file(kind, path)
    translation_model = kind.model._parler_meta.root_model
    translation = translation_model.objects.filter(master=obj, language_code=language).first()
    label = f"{language}/{kind.name}/{getattr(obj, kind.key)}"
    if translation is None:
        translation = translation_model(master=obj, language_code=language)
        for name in kind.translated:
            value = to_field(translation_model, name, values.get(name), str(path))
            setattr(translation, name, value)
        if language != SOURCE_LANGUAGE and translation.translation_of is None:
            current = english is None or english_matches_pack(kind, obj, english)
            # A translation of the pack's English, which is not the site's: outdated at once.
            translation.translation_of = obj.english_version - (0 if current else 1)
        translation.save()
        report.created.append(label)
        return
    changed = []
    for name, value in values.items():
        value = to_field(translation_model, name, value, str(path))
        if getattr(translation, name) != value:
            if not force:
                changed.append(name)
                continue
            setattr(translation, name, value)
            changed.append(name)
    if changed and not force:
        report.kept.append(f"{label} ({', '.join(changed)})")
    elif changed:
        translation.save()
        if language == SOURCE_LANGUAGE and set(changed) - set(META_FIELDS):
            obj.note_english_change()  # translations of the old text are now outdated
        report.updated.append(f"{label} ({', '.join(changed)})")
    else:
        report.unchanged += 1


def dump_pack(directory: str | Path) -> int:
    """Write every object and text in the database as a pack; returns the number of files."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    data: dict[str, list] = {}
    files = 0
    for kind in KINDS:
        items = []
        for obj in kind.model.objects.order_by(kind.key):
            item = {kind.key: getattr(obj, kind.key)}
            for name in kind.fields:
                item[name] = plain(getattr(obj, name))
                if name == "logo" and item[name]:
                    item[name] = dump_file(getattr(obj, name), root / "logos")
            for name, (_ref_model, ref_key) in kind.refs.items():
                target = getattr(obj, name)
                item[name] = getattr(target, ref_key) if target else ""
            if kind.points:
                item["points"] = [
                    {
                        n: plain(getattr(p, n))
                        for n in POINT_FIELDS
                        if plain(getattr(p, n)) not in ("", None)
                    }
                    for p in obj.points.order_by("order", "pk")
                ]
            items.append(item)
            if kind.translated:
                for translation in obj.translations.all():
                    files += dump_translation(kind, obj, translation, root)
        if items:
            data[kind.name] = items
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    (root / "pack.yaml").write_text(text, encoding="utf-8")
    return files + 1


def dump_file(fieldfile, directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    name = Path(fieldfile.name).name
    with fieldfile.open("rb") as f:
        (directory / name).write_bytes(f.read())
    return f"logos/{name}"


def dump_translation(kind: Kind, obj, translation, root: Path) -> int:
    skip = {kind.body, *(META_FIELDS if translation.language_code == SOURCE_LANGUAGE else ())}
    metadata = {name: getattr(translation, name) for name in kind.translated if name not in skip}
    body = getattr(translation, kind.body) if kind.body else ""
    path = root / translation.language_code / kind.name / f"{getattr(obj, kind.key)}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    post = frontmatter.Post(body, **metadata)
    path.write_text(
        frontmatter.dumps(post, allow_unicode=True, sort_keys=False) + "\n", encoding="utf-8"
    )
    return 1
