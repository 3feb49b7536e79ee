"""Figures for staff about one petition. A staff page may aggregate over signatures; the public
pages never do."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Case, CharField, Count, F, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from campaigns.models import Petition

from .models import CountryCount, Signature, SigningStat

DAYS = 60


def petition_statistics(petition: Petition) -> dict:
    counted = Signature.objects.counted().filter(petition=petition)
    since = timezone.now() - timedelta(days=DAYS)
    per_day = dict(
        counted.filter(confirmed_at__gte=since)
        .annotate(day=TruncDate("confirmed_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    today = timezone.localdate()
    days = [(today - timedelta(days=i)) for i in reversed(range(DAYS))]
    series = [(day, per_day.get(day, 0)) for day in days]
    totals = SigningStat.objects.filter(petition=petition).aggregate(
        s=Sum("submitted"), c=Sum("confirmed")
    )
    submitted, confirmed = totals["s"] or 0, totals["c"] or 0
    return {
        "count": petition.signature_count,
        "per_day": series,
        "per_day_chart": day_chart(series),
        "per_country": CountryCount.for_petition(petition),
        "per_group": labelled(
            counted.values_list("group").annotate(n=Count("id")).order_by("-n"),
            {value: str(label) for value, label in Signature.Group.choices},
        ),
        "per_language": labelled(
            counted.annotate(
                origin=Case(
                    When(imported_from__gt="", then=Value(IMPORTED)),
                    default=F("language"),
                    output_field=CharField(),
                )
            )
            .values_list("origin")
            .annotate(n=Count("id"))
            .order_by("-n"),
            {
                **{code: f"{name} ({code})" for code, name in settings.LANGUAGES},
                IMPORTED: "imported from earlier lists",
            },
        ),  # fmt: skip
        "per_source": list(
            SigningStat.objects.filter(petition=petition)
            .values_list("source")
            .annotate(s=Sum("submitted"), c=Sum("confirmed"))
            .order_by("-c")
        ),
        "submitted": submitted,
        "confirmed": confirmed,
        "confirmation_rate": round(100 * confirmed / submitted, 1) if submitted else None,
        "pending": Signature.objects.filter(petition=petition, status="pending").count(),
        "held": Signature.objects.filter(petition=petition, held=True)
        .exclude(status="withdrawn")
        .count(),
        "withdrawn": Signature.objects.filter(petition=petition, status="withdrawn").count(),
    }


IMPORTED = "imported"


def labelled(rows, labels: dict[str, str]) -> list[tuple[str, int]]:
    """(label, count) rows: staff read "Former political prisoner", not a stored value."""
    return [(labels.get(value, value or "—"), n) for value, n in rows]


def day_chart(series: list, width: int = 600, height: int = 160) -> dict:
    """Bars per day for an inline SVG."""
    top = max((n for _d, n in series), default=0) or 1
    step = width / max(len(series), 1)
    bars = [
        {"x": round(i * step, 1), "w": round(step * 0.8, 1), "h": round(height * n / top, 1),
         "y": round(height - height * n / top, 1), "day": day, "n": n}
        for i, (day, n) in enumerate(series)
    ]  # fmt: skip
    return {"width": width, "height": height, "bars": bars, "top": top}
