import shutil

import pytest

from campaigns.content_pack import load_pack
from campaigns.models import Petition, Section
from conftest import DEFAULT_PACK

pytestmark = pytest.mark.django_db


def translate(obj, language: str, **fields):
    obj.set_current_language(language)
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()
    obj.set_current_language("en")


def test_a_new_translation_records_the_english_version_it_translates(content):
    section = Section.objects.get(key="who")
    section.translations.exclude(language_code="en").delete()
    translate(section, "pl", title="Kim oni są?")
    assert section.get_translation("pl").translation_of == section.english_version == 1
    assert section.translation_state("pl") == "unreviewed"
    assert section.translation_state("lt") == "missing"
    assert section.translation_state("en") == "source"


def test_changing_the_english_text_makes_translations_outdated(content):
    section = Section.objects.get(key="who")
    translate(section, "pl", title="Kim oni są?")
    translate(section, "en", title="Who are the prisoners?")
    section.refresh_from_db()
    assert section.english_version == 2
    assert section.translation_state("pl") == "outdated"


def test_saving_english_unchanged_outdates_nothing(content):
    section = Section.objects.get(key="who")
    translate(section, "pl", title="Kim oni są?")
    translate(section, "en", title=section.safe_translation_getter("title", language_code="en"))
    section.refresh_from_db()
    assert section.english_version == 1


def test_reloading_a_pack_with_changed_english_outdates_its_translations(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    (pack / "de" / "sections").mkdir(parents=True, exist_ok=True)
    (pack / "de" / "sections" / "who.md").write_text(
        "---\ntitle: Wer sind sie?\ntranslation_of: 1\n---\nText\n"
    )
    load_pack(pack)
    assert Section.objects.get(key="who").translation_state("de") == "unreviewed"
    english = pack / "en" / "sections" / "who.md"
    english.write_text(english.read_text().replace("Who are they?", "Who are the prisoners?"))
    load_pack(pack, force=True)
    assert Section.objects.get(key="who").translation_state("de") == "outdated"


def test_pages_say_a_translation_is_unreviewed_until_staff_review_it(client, content):
    petition = Petition.objects.get(slug="manifesto")
    translate(petition, "de", title="Die Zeit der Freilassung ist jetzt", body="Text")
    html = client.get("/de/manifesto/").content.decode()
    assert "Translation from English, not yet reviewed" in html or "nicht" in html
    # The English text is the one signed; the link's words are German, so not marked lang="en".
    assert 'hreflang="en">' in html and 'hreflang="en" lang="en">' not in html
    translation = petition.get_translation("de")
    translation.reviewed = True
    translation.save()
    html = client.get("/de/manifesto/").content.decode()
    assert "translation-note" not in html


def test_outdated_translations_are_not_shown_as_current(client, content):
    petition = Petition.objects.get(slug="manifesto")
    translate(
        petition, "de", title="Die Zeit der Freilassung ist jetzt", body="Text", reviewed=True
    )
    translate(petition, "en", body="A changed English text")
    html = client.get("/de/manifesto/").content.decode()
    assert "earlier version of the English text" in html or "früheren" in html


def test_admin_lists_the_state_of_each_translation(staff_client, content):
    section = Section.objects.get(key="who")
    section.translations.filter(language_code="lt").delete()
    translate(section, "pl", title="Kim oni są?")
    translate(section, "en", title="Who are the prisoners?")
    html = staff_client.get("/admin/campaigns/section/").content.decode()
    assert "pl: OUTDATED" in html and "lt: —" in html
