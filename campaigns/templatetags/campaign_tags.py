"""Template helpers for the campaign pages: Markdown, language alternates, share links."""

from urllib.parse import quote, urlencode

import markdown as markdown_lib
import nh3
from django import template
from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language_info, gettext

from releasenow.lib import l10n

register = template.Library()

# Dates and numbers through CLDR patterns of the active language (releasenow/lib/l10n.py).
register.filter("long_date", l10n.long_date)
register.filter("month_year", l10n.month_year)
register.filter("number", l10n.number)
register.filter("end_of_sentence", l10n.end_of_sentence)

ALLOWED_TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "cite",
    "code",
    "em",
    "h2",
    "h3",
    "h4",
    "hr",
    "li",
    "ol",
    "p",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}


@register.filter
def markdown(text: str) -> SafeString:
    """Render staff-written Markdown; the output is sanitised, so a pasted script is inert."""
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"])
    return mark_safe(nh3.clean(html, tags=ALLOWED_TAGS))  # noqa: S308 - sanitised by nh3


@register.filter
def markdown_parts(text: str) -> tuple[SafeString, SafeString]:
    """The rendered text split before its first subheading: the opening, and the rest.

    The sign form sits between them on phones, so that it follows the text's opening."""
    html = str(markdown(text))
    cut = html.find("<h2")
    if cut < 0:
        return mark_safe(html), mark_safe("")  # noqa: S308 - sanitised by markdown()
    return mark_safe(html[:cut]), mark_safe(html[cut:])  # noqa: S308 - sanitised by markdown()


@register.simple_tag(takes_context=True)
def local_name(context: template.Context, name: str) -> str:
    """A partner's or source's name as the page's language writes it (the campaign's `names`)."""
    campaign = context.get("campaign")
    if callable(campaign):  # the context processor's lazy lookup
        campaign = campaign()
    return campaign.local_name(name) if campaign and name else name


@register.simple_tag(takes_context=True)
def language_alternates(context: template.Context) -> list[dict]:
    """The current page in every language: for the switcher and the hreflang links."""
    request: HttpRequest | None = context.get("request")
    path = request.path if request else "/"
    current = context.get("LANGUAGE_CODE")
    alternates = []
    for code, _name in settings.LANGUAGES:
        url = translate_url(path, code)
        alternates.append(
            {
                "code": code,
                "name_local": get_language_info(code)["name_local"],
                "url": url,
                "absolute_url": settings.SITE_URL + url,
                "current": code == current,
            }
        )
    return alternates


@register.simple_tag
def absolute_url(path: str) -> str:
    return settings.SITE_URL + path


@register.simple_tag
def share_links(url: str, text: str) -> list[dict]:
    """Plain links to share a page: no third-party script is ever loaded."""
    message = f"{text} {url}"
    targets = [
        ("email", gettext("E-mail"), "mailto:?", {"subject": text, "body": message}),
        ("telegram", "Telegram", "https://t.me/share/url?", {"url": url, "text": text}),
        ("whatsapp", "WhatsApp", "https://wa.me/?", {"text": message}),
        ("x", "X", "https://x.com/intent/post?", {"text": text, "url": url}),
        ("facebook", "Facebook", "https://www.facebook.com/sharer/sharer.php?", {"u": url}),
        ("bluesky", "Bluesky", "https://bsky.app/intent/compose?", {"text": message}),
    ]
    return [
        {"key": key, "name": name, "url": base + urlencode(params, quote_via=quote)}
        for key, name, base, params in targets
    ]


OG_LOCALES = {
    "en": "en_GB",
    "be": "be_BY",
    "ru": "ru_RU",
    "uk": "uk_UA",
    "pl": "pl_PL",
    "lt": "lt_LT",
    "de": "de_DE",
    "fr": "fr_FR",
}


@register.filter
def og_locale(language_code: str) -> str:
    """Open Graph wants territory-style locales (`de_DE`), not language codes."""
    return OG_LOCALES.get(language_code, language_code)
