"""Likely duplicate signatures: one person signing twice, with two addresses and two spellings.

Names are folded to one Latin form that forgets what differs between Belarusian, Russian,
Polish, German and English romanisations (`Дзмітрый Галубеў`, `Dzmitry Holubeu`, `Golubev
Dmitry` all become `dzmitri holubev`/`dmitri holubev`), and mixed-script names lose the
difference too. Tokens are then aligned in their best order and compared one by one, so that
relatives who share a family name do not look alike; city and country raise or lower the score.

Between two names written in Latin letters, a letter that no romanisation explains (Bubich and
Babich, Markevich and Mankevich, Ivashyna and Ivashkina) means two people: such pairs are kept
below the threshold, while Belarusian/Russian/Polish variants (Kalesnikava and Kolesnikova,
Dzmitry and Dmitry, Aleh and Oleg) stay high. Cities are compared through the GeoNames
gazetteer, so "Warsaw" and "Warszawa" are one place.

Blocking keeps it fast: only signatures sharing a name part's prefix or consonant skeleton are
compared, and within a very common name part only those sharing another one; never all pairs.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from anyascii import anyascii
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel

from releasenow.lib import places

THRESHOLD = 85.0
WEAKEST_TOKEN = 80.0  # a token less alike than this is a different name, whatever the rest
PREFILTER = 80.0  # whole-name similarity below which a pair is not scored (true pairs: ≥ 85)
MAX_BLOCK = 300  # a larger block (a very common name part) is split by the other name parts

# Letters whose romanisations differ between languages, mapped before the generic
# transliteration: Belarusian/Russian/Ukrainian Cyrillic, then Polish, Lithuanian, Czech, German.
LETTERS = str.maketrans({
    "ж": "zh", "ш": "sh", "щ": "shch", "ч": "ch", "х": "h", "г": "h", "ґ": "g", "ц": "c",
    "ў": "u", "й": "i", "ы": "y", "э": "e", "ё": "io", "ю": "iu", "я": "ia", "і": "i", "ї": "i",
    "є": "ie", "ь": "", "ъ": "", "ż": "zh", "ž": "zh", "ź": "z", "š": "sh", "č": "ch", "ć": "c",
    "ł": "l", "ś": "s", "ń": "n", "ß": "ss", "'": "", "’": "", "ʼ": "",
})  # fmt: skip
SPELLINGS = [
    (r"s?htsch|schtsch|szcz", "shch"), (r"tsch|tch", "ch"), (r"sch", "sh"), (r"sz", "sh"),
    (r"cz", "ch"), (r"rz", "zh"), (r"kh", "h"), (r"g", "h"), (r"t[sz]", "c"),
    (r"[jy]a", "ia"), (r"[jy]u", "iu"), (r"[jy]e", "ie"), (r"[jy]o", "io"),
    (r"w", "v"), (r"ph", "f"), (r"x", "ks"), (r"q", "k"), (r"[yj]", "i"),
    (r"(ou|au|ow|off|ov)$", "ov"), (r"(eu|ew|eff|ev)$", "ev"), (r"(ava|owa|ova)$", "ova"),
    (r"(eva|ewa)$", "eva"), (r"(.)\1+", r"\1"),
    # Belarusian ці/дзі where Russian has ти/ди (Tatsiana/Tatiana, Dzmitry/Dmitry).
    (r"ci", "ti"), (r"dzi", "di"), (r"dze", "de"),
]  # fmt: skip
TITLES = {"dr", "prof", "mr", "mrs", "ms", "phd"}
# What romanisations of one name still differ in, after `fold_word`: Belarusian akanne (a/o,
# e/ia), soft vowels, "dz" (Dzmitry/Dmitry), "u" for "v" (Uladzimir/Vladimir, Paulau/Pavlov),
# the prothetic "v" (Volha/Olga), a leading "e" (Ekaterina/Katsiaryna). A difference left after
# these is a different letter, not a spelling.
LOOSE = [
    (r"^ul", "vl"), (r"^vo", "o"), (r"^ek", "k"), (r"dz", "d"), (r"i(?=[aeiou])", ""),
    (r"(?<=[aeo])u", "v"), (r"[aeioy]", "a"), (r"(.)\1+", r"\1"),
]  # fmt: skip
DIFFERENT_LETTER_CAP = 80.0  # the most a Latin pair with a letter no romanisation explains
# may score, city and country included


def loose(token: str) -> str:
    for pattern, replacement in LOOSE:
        token = re.sub(pattern, replacement, token)
    return token


def is_latin(word: str) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    return bool(letters) and all(unicodedata.name(ch, "").startswith("LATIN") for ch in letters)


def fold_word(word: str) -> str:
    word = anyascii(unicodedata.normalize("NFKC", word).lower().translate(LETTERS)).lower()
    word = re.sub(r"[^a-z]", "", word)
    for pattern, replacement in SPELLINGS:
        word = re.sub(pattern, replacement, word)
    return word


def fold_name(name: str) -> list[str]:
    """The name as comparable tokens, in their original order, titles and initials dropped."""
    return [token for token, _latin in fold_name_with_script(name)]


def fold_name_with_script(name: str) -> list[tuple[str, bool]]:
    """(token, written in Latin letters) for each name part."""
    words = [(fold_word(w), is_latin(w)) for w in re.split(r"[\s\-.,]+", name)]
    return [(w, latin) for w, latin in words if len(w) > 1 and w not in TITLES]


def similarity(a: str, b: str) -> float:
    return Indel.normalized_similarity(a, b) * 100


VOWELS = str.maketrans("", "", "aeiou")


def skeleton(token: str) -> str:
    return token.translate(VOWELS)


@functools.lru_cache(maxsize=1_000_000)
def token_similarity(a: str, b: str) -> float:
    """Romanisations differ mostly in vowels, different names in consonants: weigh both."""
    return (similarity(a, b) + similarity(skeleton(a), skeleton(b))) / 2


def name_score(
    a: list[str], b: list[str], latin_a: frozenset = frozenset(), latin_b: frozenset = frozenset()
) -> float:
    """Best token alignment (any order): the mean similarity, or the weakest token's when a
    token clearly differs (a different given name is a different person)."""
    return aligned_score(a, b, latin_a, latin_b)[0]


def aligned_score(
    a: list[str], b: list[str], latin_a: frozenset, latin_b: frozenset
) -> tuple[float, bool]:
    """(score, whether the best alignment pairs Latin tokens that differ by a letter no
    romanisation explains: then the pair is capped below the threshold)."""
    if not a or not b:
        return 0.0, False
    if len(a) > len(b):
        a, b, latin_a, latin_b = b, a, latin_b, latin_a
    short, long = a, b
    best, capped = 0.0, False
    for chosen in itertools.permutations(long, len(short)):
        scores = [token_similarity(x, y) for x, y in zip(short, chosen, strict=True)]
        weakest = min(scores)
        value = weakest if weakest < WEAKEST_TOKEN else sum(scores) / len(scores)
        if value > best:
            best = value
            capped = any(
                x != y and x in latin_a and y in latin_b and loose(x) != loose(y)
                for x, y in zip(short, chosen, strict=True)
            )
    if len(long) > len(short):
        best -= 3 * (len(long) - len(short))  # a middle name more, a little less sure
    return best, capped


@dataclass
class Person:
    id: int
    tokens: list[str]
    city: str
    country: str
    latin: frozenset = frozenset()  # the tokens written in Latin letters

    @classmethod
    def of(cls, id: int, name: str, city: str = "", country: str = "") -> Person:
        parts = fold_name_with_script(name)
        tokens = [token for token, _latin in parts]
        latin = frozenset(token for token, is_latin_token in parts if is_latin_token)
        return cls(id, tokens, city_key(city, country or ""), country or "", latin)

    def token_keys(self, length: int = 3) -> list[set[str]]:
        """For each name part: its prefix and its consonant skeleton's."""
        result = []
        for token in self.tokens:
            keys = {f"p{token[:length]}"}
            consonants = skeleton(token)
            if len(consonants) >= 2:
                keys.add(f"s{consonants[:length]}")
            result.append(keys)
        return result

    def block_keys(self) -> set[str]:
        return set().union(*self.token_keys())

    def other_keys(self, key: str) -> set[str]:
        """Finer keys of the name parts that did not produce `key`."""
        coarse, fine = self.token_keys(), self.token_keys(length=4)
        return set().union(*(f for c, f in zip(coarse, fine, strict=True) if key not in c))


@functools.lru_cache(maxsize=100_000)
def city_key(city: str, country: str = "") -> str:
    """The gazetteer's id for a known place (Warsaw and Warszawa alike), else the folded name."""
    if not city.strip():
        return ""
    return places.canonical(city.split(",")[0], country)


def same_city(a: str, b: str) -> bool:
    if a == b:
        return True
    if a.startswith("g") and a[1:].isdigit() or b.startswith("g") and b[1:].isdigit():
        return False  # a known place and another place
    return similarity(a, b) >= 80


def score(a: Person, b: Person) -> float:
    value, capped = aligned_score(a.tokens, b.tokens, a.latin, b.latin)
    if a.country and b.country:
        value += 4 if a.country == b.country else -15
    if a.city and b.city:
        value += 4 if same_city(a.city, b.city) else -6
    return round(min(value, DIFFERENT_LETTER_CAP if capped else 100.0), 1)


def candidates(
    people: list[Person], threshold: float = THRESHOLD, progress=None
) -> list[tuple[int, int, float]]:
    """(id, id, score) for every pair at or above the threshold, best first."""
    blocks: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        for key in person.block_keys():
            blocks[key].append(person)
    seen: set[tuple[int, int]] = set()
    found = []
    step = max(len(blocks) // 20, 1)
    for number, (key, members) in enumerate(blocks.items()):
        if progress and number % step == 0:
            progress(number / len(blocks))
        groups = [members]
        if len(members) > MAX_BLOCK:
            # A common name part (Aliaksandr, Ivanou): compare only people who also share a key
            # of another name part.
            sub: dict[str, list[Person]] = defaultdict(list)
            for person in members:
                for other in person.other_keys(key):
                    sub[other].append(person)
            groups = list(sub.values())
        for group in groups:
            if len(group) < 2:
                continue
            # Cheap filter in C++ over the whole block, with the name parts in two orders so
            # that variants sort alike (Aleh/Oleg beside Matskevich); the exact score only for
            # the pairs that pass.
            by_letter = [" ".join(sorted(person.tokens)) for person in group]
            by_skeleton = [" ".join(sorted(person.tokens, key=skeleton)) for person in group]
            for i, person in enumerate(group):
                matches = {
                    j
                    for names in (by_letter, by_skeleton)
                    for _name, _value, j in process.extract(
                        names[i], names, scorer=fuzz.ratio, score_cutoff=PREFILTER, limit=None
                    )
                }
                for j in matches:
                    if j <= i:
                        continue
                    other = group[j]
                    pair = (min(person.id, other.id), max(person.id, other.id))
                    if pair in seen:
                        continue
                    seen.add(pair)
                    value = score(person, other)
                    if value >= threshold:
                        found.append((*pair, value))
    return sorted(found, key=lambda item: -item[2])
