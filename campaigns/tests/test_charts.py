import datetime

import pytest

from campaigns.charts import nice_ceiling
from campaigns.models import Chart, ChartPoint

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1), (7, 10), (140, 200), (1452 * 1.1, 2000), (3, 5), (10, 10)]
)
def test_axis_top_is_a_round_number_above_the_data(value, expected):
    assert nice_ceiling(value) == expected


def test_bars_are_proportional_and_the_highlighted_country_is_marked():
    chart = Chart.objects.create(key="c", kind="bar")
    ChartPoint.objects.create(chart=chart, country="BY", value=140, order=1)
    ChartPoint.objects.create(chart=chart, country="RU", value=35, order=2)
    bars = chart.geometry()["bars"]
    assert [b.highlight for b in bars] == [True, False]
    assert bars[0].width == pytest.approx(4 * bars[1].width)
    assert bars[0].label == "Belarus"


def test_line_points_run_left_to_right_in_time_and_up_with_value():
    chart = Chart.objects.create(key="l", kind="line")
    for day, value in (
        (datetime.date(2021, 1, 1), 100),
        (datetime.date(2023, 1, 1), 300),
        (datetime.date(2022, 1, 1), 200),
    ):
        ChartPoint.objects.create(chart=chart, date=day, value=value)
    g = chart.geometry()
    xs = [p["x"] for p in g["points"]]
    ys = [p["y"] for p in g["points"]]
    assert xs == sorted(xs)
    assert ys == sorted(ys, reverse=True)
    assert [t["label"] for t in g["ticks"]] == ["2022", "2023"]
    assert g["points"][-1]["anchor"] == "start"


def test_empty_line_chart_draws_nothing():
    chart = Chart.objects.create(key="e", kind="line")
    assert chart.geometry()["points"] == []


def test_the_text_alternatives_of_charts_carry_their_dates(client, content):
    from campaigns.models import ChartPoint

    ChartPoint.objects.filter(chart__key="prisoner_history").update(verified=True)
    html = client.get("/en/").content.decode()
    assert "inhabitants), as of May 2025: Belarus 140; Azerbaijan 56" in html
    assert "December 2020: 169; January 2022: 978" in html  # each value with its date


def test_the_line_chart_is_drawn_again_for_phones_at_the_same_type_size():
    chart = Chart.objects.create(key="n", kind="line")
    for year, value in ((2021, 100), (2022, 300), (2023, 200)):
        ChartPoint.objects.create(chart=chart, date=datetime.date(year, 1, 1), value=value)
    wide, narrow = chart.geometry(), chart.narrow_geometry()
    assert narrow["width"] <= 320 < wide["width"]
    assert [p["date"] for p in narrow["points"]] == ["January 2021", "January 2022", "January 2023"]
    assert max(p["x"] for p in narrow["points"]) <= narrow["right"]
