import copy
import functools
import re
import unicodedata

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from releasenow.lib.countries import country_choices

from .mail_providers import risky_domains, risky_provider
from .models import Signature

# Bidirectional overrides and isolates can make a name display as something else.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
# Characters that show nothing: Unicode's Default_Ignorable_Code_Point (zero-width spaces and
# joiners, bidi marks, variation selectors, tags, the Hangul fillers that count as letters)
# and the blank Braille pattern. A name made of them would be an empty line on the list.
INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
URL_OR_EMAIL = re.compile(r"https?://|www\.|\S@\S|\.(com|org|net|ru|by|io|info)\b", re.I)
FORMULA_START = ("=", "+", "-", "@")
AT_RISK_LANGUAGES = ("be", "ru")

# Each message says what to do, not only what went wrong.
ERROR_MESSAGES = {
    "full_name": {
        "required": _("Please write your name."),
        "min_length": _("Please write your full name: at least 2 letters."),
    },
    "email": {
        "required": _(
            "Please enter your e-mail address: the link to confirm your signature goes there."
        ),
        "invalid": _("Please enter a complete e-mail address, like name@example.org."),
    },
    "visibility": {"required": _("Please choose how your signature is shown.")},
    "privacy_consent": {
        "required": _(
            "Please tick the box to say you have read the privacy notice: "
            "we can only count your signature with it."
        )
    },
}
# Browsers and password managers fill these in (WCAG 1.3.5, identify input purpose).
AUTOCOMPLETE = {
    "full_name": "name",
    "email": "email",
    "affiliation": "organization",
    "city": "address-level2",
    "country": "country",
}


def clean_text(value: str) -> str:
    """NFC, no invisible, control or bidi-control characters, single spaces. Letters of any
    script stay."""
    value = unicodedata.normalize("NFC", value or "").translate(BIDI_CONTROLS)
    value = INVISIBLE.sub("", value)
    value = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in value)
    return " ".join(value.split())


class CleanCharField(forms.CharField):
    """Public text: cleaned by `clean_text`; a value that was only invisible, format or control
    characters is refused with a message, not silently emptied."""

    def to_python(self, value):
        typed = super().to_python(value)
        cleaned = clean_text(typed)
        if typed and not cleaned:
            raise forms.ValidationError(
                _("Please use visible letters: this contained only invisible characters."),
                code="invisible",
            )
        return cleaned


def reject_links_and_formulas(value: str, what: str) -> None:
    if URL_OR_EMAIL.search(value):
        raise forms.ValidationError(
            _("Please do not put web or e-mail addresses in your %(what)s."), params={"what": what}
        )
    if value.startswith(FORMULA_START):
        raise forms.ValidationError(_("This may not start with =, +, - or @."))


class CountrySelect(forms.Select):
    """The country list as plain HTML, built once per language.

    Django's widget templates render each of the ~250 options through a template: most of the
    manifesto page's time. The options never change within a language, so they are joined once
    and the chosen one is marked by a string replacement.
    """

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        options = country_options_html(get_language() or "en")
        chosen = self.format_value(value)
        code = chosen[0] if chosen else ""
        if code:
            option = format_html('<option value="{}">', code)
            options = options.replace(option, option[:-1] + " selected>", 1)
        else:
            options = options.replace('<option value="">', '<option value="" selected>', 1)
        attrs = flatatt(self.build_attrs(self.attrs, attrs))
        # The options are escaped already (country_options_html); the replacement adds no text.
        options = mark_safe(options)  # noqa: S308
        return format_html('<select name="{}"{}>\n{}\n</select>', name, attrs, options)


@functools.cache
def country_options_html(language: str) -> SafeString:
    return mark_safe(  # noqa: S308 - every part escaped by format_html_join
        '<option value="">—</option>\n'
        + format_html_join("\n", '<option value="{}">{}</option>', country_choices(language))
    )


class FixedChoiceField(forms.ChoiceField):
    """A choice whose options no form changes, so every form shares them. Django deep-copies
    each choice field's options, lazy labels and all, for every form it builds: with the
    country list, a few percent of a sign request. Setting `choices` on one form replaces its
    own (it never changes the shared list in place), so forms stay independent."""

    def __deepcopy__(self, memo):
        result = forms.Field.__deepcopy__(self, memo)
        result._choices = self._choices
        return result


class CountryChoiceField(FixedChoiceField):
    """The country choice, checked by a set lookup: Django walks all ~250 choices (in the
    visitor's language) on every submission, a good part of a sign request's time."""

    def valid_value(self, value) -> bool:
        return value in country_codes()


@functools.cache
def country_codes() -> frozenset[str]:
    return frozenset(["", *(code for code, _name in country_choices("en"))])


def copy_field(field: forms.Field) -> forms.Field:
    """What Django's `Field.__deepcopy__` makes of a field (the field and its widget copied,
    with their own attributes, error messages and validators; the option lists shared, see
    `FixedChoiceField`), without going through `copy.deepcopy`, which was most of the cost of
    building a sign form. A field or widget that copies more for itself (a MultiValueField's
    fields, a MultiWidget's widgets) goes through `copy.deepcopy` as before."""
    if (
        type(field).__deepcopy__ not in COPIED_AS_FIELDS
        or type(field.widget).__deepcopy__ not in COPIED_AS_WIDGETS
    ):
        return copy.deepcopy(field)
    new = object.__new__(type(field))
    new.__dict__.update(field.__dict__)
    new.widget = object.__new__(type(field.widget))
    new.widget.__dict__.update(field.widget.__dict__)
    new.widget.attrs = field.widget.attrs.copy()
    new.error_messages = field.error_messages.copy()
    new.validators = field.validators[:]
    return new


# The `__deepcopy__`s that copy nothing beyond what `copy_field` does (the option lists aside).
COPIED_AS_FIELDS = {
    forms.Field.__deepcopy__,
    forms.ChoiceField.__deepcopy__,
    FixedChoiceField.__deepcopy__,
}
COPIED_AS_WIDGETS = {forms.Widget.__deepcopy__, forms.widgets.ChoiceWidget.__deepcopy__}


class CopiedFieldByField(dict):
    """A form's `base_fields`, which Django deep-copies for every form it builds: here copied
    field by field (`copy_field`)."""

    def __deepcopy__(self, memo) -> dict:
        return {name: copy_field(field) for name, field in self.items()}


class SignatureForm(forms.Form):
    full_name = CleanCharField(label=_("Full name"), max_length=120, min_length=2)
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("Only to confirm your signature. Never shown, never passed on."),
    )
    affiliation = CleanCharField(
        label=_("Role or organisation"),
        max_length=150,
        required=False,
        help_text=_("Optional, for example “Journalist” or “Human Rights Center Viasna”."),
    )
    city = CleanCharField(label=_("City"), max_length=100, required=False)
    country = CountryChoiceField(
        label=_("Country"),
        choices=lambda: [("", "—"), *country_choices()],
        required=False,
        widget=CountrySelect,
    )
    visibility = FixedChoiceField(
        label=_("How your signature is shown"),
        choices=Signature.Visibility.choices,
        widget=forms.RadioSelect,
    )
    group = FixedChoiceField(
        label=_("I sign as"),
        choices=Signature.Group.choices,
        initial=Signature.Group.SUPPORTER,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Shown in the list only after the campaign team has verified it."),
    )
    privacy_consent = forms.BooleanField(label=_("I have read the privacy notice."))
    updates_consent = forms.BooleanField(
        label=_("Send me campaign news by e-mail (you can unsubscribe at any time)."),
        required=False,
    )
    # Set by the page when the Belarus warning has been shown; see clean().
    belarus_warning_seen = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # The risky mail provider the signer was warned about; see __init__ and clean().
    email_warned = forms.CharField(required=False, widget=forms.HiddenInput, max_length=253)
    # Filled by the proof-of-work script; empty without JavaScript.
    altcha = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)
    # The partner link the visitor came by (?source=), counted as an aggregate only.
    source = forms.CharField(required=False, widget=forms.HiddenInput)
    # A field people never see; bots fill it in.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._advise_on_mail_provider()
        # Signers in Belarus see the risk before a public listing is accepted: the server
        # switches the choice to "not listed" and asks once more. Choosing again is respected.
        self.belarus_switched = (
            self.is_bound
            and self.data.get("country") == "BY"
            and self.data.get("visibility") != Signature.Visibility.ANONYMOUS
            and not self.data.get("belarus_warning_seen")
        )
        if self.belarus_switched:
            self.data = self.data.copy()
            self.data["visibility"] = Signature.Visibility.ANONYMOUS
            self.data["belarus_warning_seen"] = "1"

    def _advise_on_mail_provider(self) -> None:
        """An address at a provider under Russian or Belarusian jurisdiction: the form comes
        back once with a warning and three ways on (sign anyway, another address, not listed).
        The choice (`email_advice`, a button) counts for the provider it was shown for."""
        self.risky_provider = risky_provider(self.data.get("email", "")) if self.is_bound else ""
        advice = self.data.get("email_advice", "") if self.is_bound else ""
        if not self.risky_provider or self.data.get("email_warned") != self.risky_provider:
            advice = ""
        self.email_advice = advice if advice in ("keep", "unlisted") else ""
        self.email_warning_needed = bool(self.risky_provider) and not self.email_advice
        if self.risky_provider:
            self.data = self.data.copy()
            self.data["email_warned"] = self.risky_provider
            if self.email_advice == "unlisted":
                self.data["visibility"] = Signature.Visibility.ANONYMOUS

    @property
    def risky_domains(self) -> str:
        """For the script that warns before submitting."""
        return " ".join(risky_domains())

    @staticmethod
    def initial_for(language: str | None = None) -> dict:
        """Belarusian and Russian readers are most likely to be at risk: not listed by default."""
        at_risk = (language or get_language()) in AT_RISK_LANGUAGES
        return {
            "visibility": Signature.Visibility.ANONYMOUS
            if at_risk
            else Signature.Visibility.PUBLIC,
            "group": Signature.Group.SUPPORTER,
        }

    @property
    def belarus_warning(self) -> bool:
        """Whether the risk warning shows before any script runs."""
        return get_language() in AT_RISK_LANGUAGES or self["country"].value() == "BY"

    def clean_full_name(self) -> str:
        name = self.cleaned_data["full_name"]
        reject_links_and_formulas(name, _("name"))
        if not any(ch.isalpha() for ch in name):
            raise forms.ValidationError(_("Please write your name with letters."))
        return name

    def clean_affiliation(self) -> str:
        value = self.cleaned_data["affiliation"]
        if value:
            reject_links_and_formulas(value, _("role or organisation"))
        return value

    def clean_city(self) -> str:
        value = self.cleaned_data["city"]
        if value:
            reject_links_and_formulas(value, _("city"))
        return value

    def clean_source(self) -> str:
        """Cleaned, never refused: a mangled partner link must not stop anyone signing."""
        return slugify(self.cleaned_data.get("source") or "")[:40]

    def clean_group(self) -> str:
        return self.cleaned_data["group"] or Signature.Group.SUPPORTER

    def clean(self):
        data = super().clean()
        if self.belarus_switched:
            self.add_error(
                None,
                forms.ValidationError(
                    _(
                        "You chose Belarus. For your safety we switched your signature to “not "
                        "listed”. If you still want your name shown, choose so again and sign."
                    ),
                    code="belarus",
                ),
            )
        if self.email_warning_needed:
            self.add_error(
                None,
                forms.ValidationError(
                    _(
                        "Your e-mail provider (%(domain)s) is run under Russian or Belarusian "
                        "law and may hand your mail to the authorities. Please choose below how "
                        "to sign."
                    ),
                    params={"domain": self.risky_provider},
                    code="risky_email",
                ),
            )
        return data

    @property
    def honeypot_filled(self) -> bool:
        return bool(self.data.get("website"))


# The same for every form, so set once on the fields every form copies.
for _name, _messages in ERROR_MESSAGES.items():
    SignatureForm.base_fields[_name].error_messages.update(_messages)
for _name, _token in AUTOCOMPLETE.items():
    SignatureForm.base_fields[_name].widget.attrs["autocomplete"] = _token
SignatureForm.base_fields = CopiedFieldByField(SignatureForm.base_fields)
