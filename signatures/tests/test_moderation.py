import pytest

from campaigns.models import Petition
from signatures.models import AuditEntry, CountryCount, Signature
from signatures.tests.conftest import make_signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def pre_moderated(manifesto) -> Petition:
    manifesto.moderation = Petition.Moderation.PRE
    manifesto.save()
    return manifesto


def action(staff_client, name, *signatures):
    return staff_client.post(
        "/admin/signatures/signature/",
        {"action": name, "_selected_action": [s.pk for s in signatures]},
        follow=True,
    )


def listed_names(client) -> str:
    return client.get("/en/manifesto/signatories/").content.decode()


def test_pre_moderation_lists_names_only_after_approval(client, staff_client, pre_moderated):
    olga = make_signature(pre_moderated, "Olga Loiko")
    pre_moderated.refresh_from_db()
    assert pre_moderated.signature_count == 1  # counted at once
    assert "Olga Loiko" not in listed_names(client)
    action(staff_client, "approve", olga)
    assert "Olga Loiko" in listed_names(client)


def test_post_moderation_lists_at_once_and_hiding_keeps_the_count(client, staff_client, manifesto):
    olga = make_signature(manifesto, "Olga Loiko")
    assert "Olga Loiko" in listed_names(client)
    action(staff_client, "hide", olga)
    assert "Olga Loiko" not in listed_names(client)
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 1


def test_switching_a_petition_to_pre_moderation_unlists_unreviewed_names(client, manifesto):
    make_signature(manifesto, "Olga Loiko")
    approved = make_signature(manifesto, "Ales Yuruts")
    approved.approve()
    manifesto.moderation = Petition.Moderation.PRE
    manifesto.save()
    html = listed_names(client)
    assert "Olga Loiko" not in html and "Ales Yuruts" in html


def test_fraudulent_signatures_stop_counting_and_listing(client, staff_client, manifesto):
    fake = make_signature(manifesto, "Bot Bot", country="LT")
    action(staff_client, "mark_fraudulent", fake)
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 0
    assert CountryCount.objects.get(country="LT").count == 0
    assert "Bot Bot" not in listed_names(client)


def test_group_claims_are_verified_or_rejected(client, staff_client, manifesto):
    maryia = make_signature(manifesto, "Maryia Babovich", group="former_political_prisoner")
    claim = make_signature(manifesto, "Some Claimant", group="former_political_prisoner")
    action(staff_client, "verify_group", maryia)
    action(staff_client, "reject_group", claim)
    html = listed_names(client)
    former = html[
        html.index("Former political prisoners") : html.index("Thank you for your support!")
    ]
    assert "Maryia Babovich" in former and "Some Claimant" not in former
    assert "Some Claimant" in html  # still listed, as a supporter


def test_releasing_held_signatures_counts_them(staff_client, manifesto):
    held, _ = Signature.submit(
        manifesto,
        {"full_name": "Held One", "email": "h@example.org", "visibility": "public"},
        language="en",
        challenge_passed=True,
        held=True,
    )
    held.confirm()
    action(staff_client, "release", held)
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 1


def test_queue_filters_show_what_waits_for_staff(staff_client, pre_moderated):
    make_signature(pre_moderated, "To Review")
    make_signature(pre_moderated, "Claim Person", group="relative").approve()
    make_signature(pre_moderated, "Anonymous One", visibility="anonymous")
    review = staff_client.get("/admin/signatures/signature/?queue=review").content.decode()
    assert "To Review" in review and "Claim Person" not in review
    claims = staff_client.get("/admin/signatures/signature/?queue=claims").content.decode()
    assert "Claim Person" in claims and "To Review" not in claims


def test_staff_edit_public_fields_with_an_audit_entry(staff_client, manifesto):
    olga = make_signature(manifesto, "Olga Loiko", city="Warszwa", country="PL")
    response = staff_client.post(
        f"/admin/signatures/signature/{olga.pk}/change/",
        {
            "full_name": "Olga Loiko",
            "affiliation": "Journalist",
            "city": "Warsaw",
            "country": "PL",
            "visibility": "initials",
        },
    )
    assert response.status_code == 302
    olga.refresh_from_db()
    assert (olga.city, olga.visibility) == ("Warsaw", "initials")
    entry = AuditEntry.objects.get(action="edit public fields")
    assert entry.actor_name == "mod"
    assert entry.before == {"city": "Warszwa", "visibility": "public"}
    assert entry.after == {"city": "Warsaw", "visibility": "initials"}
    assert (
        "edit public fields" in staff_client.get("/admin/signatures/auditentry/").content.decode()
    )


def test_staff_can_never_make_a_signature_more_public(staff_client, manifesto):
    anon = make_signature(manifesto, "Hidden Person", visibility="anonymous")
    response = staff_client.post(
        f"/admin/signatures/signature/{anon.pk}/change/",
        {
            "full_name": "Hidden Person",
            "affiliation": "",
            "city": "",
            "country": "PL",
            "visibility": "public",
        },
    )
    assert response.status_code == 200
    assert b"more public than they chose" in response.content
    anon.refresh_from_db()
    assert anon.visibility == "anonymous"


def test_moving_a_signature_to_another_country_moves_its_count(staff_client, manifesto):
    olga = make_signature(manifesto, "Olga Loiko", country="PL")
    olga.change(staff_client.user, country="LT")
    counts = {c.country: c.count for c in CountryCount.objects.all()}
    assert counts == {"PL": 0, "LT": 1}


def test_every_moderation_action_is_recorded(staff_client, manifesto):
    olga = make_signature(manifesto, "Olga Loiko", group="relative")
    for name in ("approve", "verify_group", "hide"):
        action(staff_client, name, olga)
    assert list(
        AuditEntry.objects.filter(signature=olga).order_by("id").values_list("action", "actor_name")
    ) == [
        ("approve", "mod"),
        ("verify group", "mod"),
        ("hide", "mod"),
    ]


def test_withdrawal_erases_names_from_the_audit_log_too(staff_client, manifesto):
    olga = make_signature(manifesto, "Olga Loiko", city="Warszwa")
    olga.change(staff_client.user, city="Warsaw")
    olga.withdraw()
    for entry in AuditEntry.objects.filter(signature=olga):
        assert "Olga" not in str(entry.before) + str(entry.after)
        assert "Warsaw" not in str(entry.before) + str(entry.after)
    assert AuditEntry.objects.filter(action="withdrawn by the signer").exists()


def erase(staff_client, *signatures, **extra):
    return staff_client.post(
        "/admin/signatures/signature/",
        {
            "action": "withdraw_on_request",
            "_selected_action": [s.pk for s in signatures],
            "erase_confirmed": "yes",
            **extra,
        },
        follow=True,
    )


def test_staff_withdraw_on_request_erases_and_uncounts(staff_client, manifesto):
    olga = make_signature(manifesto, "Olga Loiko")
    erase(staff_client, olga, confirm="on")
    olga.refresh_from_db()
    manifesto.refresh_from_db()
    assert olga.status == "withdrawn" and olga.full_name == "" and manifesto.signature_count == 0
    assert AuditEntry.objects.get(action="withdrawn on the signer's request").actor_name == "mod"


def test_the_admin_never_shows_email_addresses(staff_client, manifesto):
    olga = make_signature(manifesto, "Olga Loiko", email="private.olga@example.org")
    html = staff_client.get(f"/admin/signatures/signature/{olga.pk}/change/").content.decode()
    html += staff_client.get("/admin/signatures/signature/").content.decode()
    assert "private.olga" not in html


@pytest.mark.django_db(transaction=True)
def test_thank_you_page_says_when_the_name_will_appear(client, pre_moderated):
    from signatures.tests.conftest import confirm_by_mail, sign

    sign(client)
    response = confirm_by_mail(client)
    assert b"once the campaign team has reviewed it" in response.content


def test_erasing_first_lists_exactly_who_will_be_erased_and_erases_nothing(staff_client, manifesto):
    olga = make_signature(manifesto, "Olga Loiko", affiliation="Journalist")
    anna = make_signature(manifesto, "Anna Relative", affiliation="Teacher")
    kept = make_signature(manifesto, "Kept Person")
    page = action(staff_client, "withdraw_on_request", olga, anna).content.decode()
    assert "2 signatures will be withdrawn and erased" in page
    assert "Olga Loiko" in page and "Anna Relative" in page and "Kept Person" not in page
    assert Signature.objects.filter(status="withdrawn").count() == 0
    # Without the confirmation box ticked: still nothing erased.
    page = erase(staff_client, olga, anna).content.decode()
    assert "This field is required" in page
    assert Signature.objects.filter(status="withdrawn").count() == 0
    erase(staff_client, olga, anna, confirm="on")
    assert set(Signature.objects.filter(status="withdrawn").values_list("pk", flat=True)) == {
        olga.pk,
        anna.pk,
    }
    kept.refresh_from_db()
    assert kept.status == "confirmed"


def test_erasing_many_requires_typing_their_number(staff_client, manifesto, settings):
    settings.ERASE_TYPE_NUMBER_ABOVE = 3
    people = [make_signature(manifesto, f"Person {name}") for name in "ABCDE"]
    page = erase(staff_client, *people, confirm="on").content.decode()
    assert "Type the number of signatures to erase" in page
    assert Signature.objects.filter(status="withdrawn").count() == 0
    page = erase(staff_client, *people, confirm="on", number="4").content.decode()
    assert "Type 5, the number of signatures listed above" in page
    assert Signature.objects.filter(status="withdrawn").count() == 0
    erase(staff_client, *people, confirm="on", number="5")
    assert Signature.objects.filter(status="withdrawn").count() == 5


def test_admin_search_matches_names_not_roles_unless_asked(staff_client, manifesto):
    make_signature(manifesto, "Olga Loiko", affiliation="Relatives of Political Prisoners")
    make_signature(manifesto, "Ivan Relativ", affiliation="Teacher")
    page = staff_client.get("/admin/signatures/signature/", {"q": "Relativ"}).content.decode()
    assert "Ivan Relativ" in page and "Olga Loiko" not in page
    page = staff_client.get(
        "/admin/signatures/signature/", {"q": "Relativ", "search_in": "all"}
    ).content.decode()
    assert "Ivan Relativ" in page and "Olga Loiko" in page
