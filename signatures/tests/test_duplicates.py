import csv
from pathlib import Path

import pytest
from django.core.management import call_command

from signatures.duplicates import THRESHOLD, Person, candidates, fold_name, score
from signatures.imports import import_signatures
from signatures.models import DuplicateCandidate
from signatures.tests.conftest import make_signature

DATA = Path(__file__).parent / "data"


def test_names_fold_across_alphabets_and_romanisations():
    assert fold_name("Дзмітрый Галубеў") == fold_name("Dzmitry Halubeu")
    assert fold_name("Татsiana") == fold_name("Tatsiana") == fold_name("Тацяна")
    assert fold_name("Żanna Łukaszewicz") == fold_name("Zhanna Lukashevich")
    assert fold_name("Kulikou") == fold_name("Kulikov") == fold_name("Kulikow")
    assert fold_name("Yulia") == fold_name("Julia") == fold_name("Iulia")


def test_precision_and_recall_on_the_labelled_pairs(capsys):
    rows = list(csv.DictReader((DATA / "duplicate_pairs.csv").open(encoding="utf-8")))
    tp = fp = fn = 0
    for row in rows:
        a = Person.of(1, row["name_a"], row["city_a"], row["country_a"])
        b = Person.of(2, row["name_b"], row["city_b"], row["country_b"])
        predicted, actual = score(a, b) >= THRESHOLD, row["same_person"] == "1"
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    with capsys.disabled():
        print(
            f"\nduplicate finder on {len(rows)} labelled pairs: precision {precision:.2f}, recall {recall:.2f}"
        )
    assert len(rows) >= 200
    assert sum(row["same_person"] == "0" for row in rows) >= 80  # hard negatives included
    assert precision >= 0.95 and recall >= 0.95


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Olga Bubich", "Olga Babich"),
        ("Volha Ivashyna", "Volha Ivashkina"),
        ("Anna Markevich", "Anna Mankevich"),
    ],
)
def test_one_letter_family_name_differences_in_latin_script_score_low(a, b):
    assert score(Person.of(1, a, "Berlin", "DE"), Person.of(2, b, "Berlin", "DE")) < 90
    assert score(Person.of(1, a), Person.of(2, b)) < THRESHOLD


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Aliaksandra Kalesnikava", "Alexandra Kolesnikova"),
        ("Dzmitry Holubeu", "Golubev Dmitry"),
        ("Volha Pavuk", "Olga Pavuk"),
        ("Uladzimir Paulau", "Vladimir Pavlov"),
        ("Tatsiana Safonava", "Тацяна Сафонава"),
        ("Olga Bubich", "Ольга Бубич"),
    ],
)
def test_transliteration_variants_stay_high(a, b):
    assert score(Person.of(1, a, "Berlin", "DE"), Person.of(2, b, "Berlin", "DE")) >= 90


def test_warsaw_and_warszawa_are_one_city_through_the_gazetteer():
    same = score(Person.of(1, "Anna Nowak", "Warsaw", "PL"), Person.of(2, "Anna Nowak", "Warszawa"))
    other = score(Person.of(1, "Anna Nowak", "Warsaw", "PL"), Person.of(2, "Anna Nowak", "Krakow"))
    assert same > other
    assert Person.of(1, "A", "Warsaw").city == Person.of(2, "A", "Варшава").city


def test_blocking_finds_the_labelled_duplicates_among_many_people():
    rows = list(csv.DictReader((DATA / "duplicate_pairs.csv").open(encoding="utf-8")))
    people, expected = [], set()
    for i, row in enumerate(rows):
        people.append(Person.of(2 * i, row["name_a"], row["city_a"], row["country_a"]))
        people.append(Person.of(2 * i + 1, row["name_b"], row["city_b"], row["country_b"]))
        if row["same_person"] == "1":
            expected.add((2 * i, 2 * i + 1))
    found = {(a, b) for a, b, _s in candidates(people)}
    assert len(expected & found) / len(expected) >= 0.95


@pytest.mark.django_db
def test_find_merge_and_dismiss(manifesto, capsys):
    import_signatures(manifesto, (DATA / "published-list.txt").read_text(), source="list")
    call_command("find_duplicates", "--petition", "manifesto")
    out = capsys.readouterr().out
    assert "Dzmitry Holubeu" in out and "Golubev Dmitry" in out
    assert "Vasilevich" not in out  # relatives, not duplicates
    pair = DuplicateCandidate.objects.get()
    pair.merge()
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 67  # 68 imported ("Doutchland" is refused)
    assert pair.second.__class__.objects.get(pk=pair.second_id).moderation == "duplicate"
    assert DuplicateCandidate.find(manifesto) == []  # decided pairs are not raised again


@pytest.mark.django_db
def test_dismissed_pairs_stay_dismissed(manifesto):
    make_signature(manifesto, "Dzmitry Holubeu", city="New York", email="a@example.org")
    make_signature(manifesto, "Golubev Dmitry", city="New York", email="b@example.org")
    (pair,) = DuplicateCandidate.find(manifesto)
    pair.dismiss()
    assert DuplicateCandidate.find(manifesto) == []
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 2


@pytest.mark.django_db(transaction=True)
def test_staff_start_a_search_from_the_admin_and_the_worker_does_it(manifesto, staff_client):
    from signatures.models import StaffJob
    from signatures.tests.conftest import run_tasks

    make_signature(manifesto, "Dzmitry Holubeu", city="New York", email="a@example.org")
    make_signature(manifesto, "Golubev Dmitry", city="New York", email="b@example.org")
    listing = staff_client.get("/admin/signatures/duplicatecandidate/").content.decode()
    assert "Search for duplicates now" in listing
    response = staff_client.post(
        "/admin/signatures/duplicatecandidate/search/", {"petition": manifesto.pk}
    )
    staff_client.post("/admin/signatures/duplicatecandidate/search/", {"petition": manifesto.pk})
    job = StaffJob.objects.get()  # one search per petition at a time
    assert response["Location"].endswith(f"/{job.pk}/change/")
    assert not DuplicateCandidate.objects.exists()  # not in the request
    run_tasks()
    job.refresh_from_db()
    assert (job.state, job.progress, job.message) == ("done", 100, "1 open candidate pairs")
    assert DuplicateCandidate.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_duplicates_are_searched_on_a_schedule(manifesto, settings):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from signatures.models import StaffJob
    from signatures.tests.conftest import run_tasks

    settings.DUPLICATES_EVERY_HOURS = 24
    make_signature(manifesto, "Dzmitry Holubeu", city="New York", email="a@example.org")
    make_signature(manifesto, "Golubev Dmitry", city="New York", email="b@example.org")
    call_command("schedule_tasks", verbosity=0)
    call_command("schedule_tasks", verbosity=0)
    scheduled = DBTaskResult.objects.filter(task_path__endswith="find_duplicates_on_schedule")
    assert scheduled.count() == 1
    run_tasks()
    assert DuplicateCandidate.objects.count() == 1
    assert StaffJob.objects.get().requested_by == "schedule"
    ready = scheduled.filter(status="READY").get()
    assert ready.run_after > timezone.now() + timedelta(hours=23)
