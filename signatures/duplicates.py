"""Likely duplicate signatures: one person signing twice, with two addresses and two spellings.

Names are folded to one Latin form that forgets what differs between Belarusian, Russian,
Polish, German and English romanisations (`Дзмітрый Галубеў`, `Dzmitry Holubeu`, `Golubev
Dmitry` all become `dzmitri holubev`/`dmitri holubev`), and mixed-script names lose the
difference too. Tokens are then aligned in their best order and compared one by one, so that
relatives who share a family name do not look alike; city and country raise or lower the score.

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
    (r"s?htsch|schtsch|szcz", "shch"), (r"tsch", "ch"), (r"sch", "sh"), (r"sz", "sh"),
    (r"cz", "ch"), (r"rz", "zh"), (r"kh", "h"), (r"g", "h"), (r"t[sz]", "c"),
    (r"[jy]a", "ia"), (r"[jy]u", "iu"), (r"[jy]e", "ie"), (r"[jy]o", "io"),
    (r"w", "v"), (r"ph", "f"), (r"x", "ks"), (r"q", "k"), (r"[yj]", "i"),
    (r"(ou|au|ow|off|ov)$", "ov"), (r"(eu|ew|eff|ev)$", "ev"), (r"(ava|owa|ova)$", "ova"),
    (r"(eva|ewa)$", "eva"), (r"(.)\1+", r"\1"),
    # Belarusian ці/дзі where Russian has ти/ди (Tatsiana/Tatiana, Dzmitry/Dmitry).
    (r"ci", "ti"), (r"dzi", "di"), (r"dze", "de"),
]  # fmt: skip
TITLES = {"dr", "prof", "mr", "mrs", "ms", "phd"}


def fold_word(word: str) -> str:
    word = anyascii(unicodedata.normalize("NFKC", word).lower().translate(LETTERS)).lower()
    word = re.sub(r"[^a-z]", "", word)
    for pattern, replacement in SPELLINGS:
        word = re.sub(pattern, replacement, word)
    return word


def fold_name(name: str) -> list[str]:
    """The name as comparable tokens, in their original order, titles and initials dropped."""
    words = [fold_word(w) for w in re.split(r"[\s\-.,]+", name)]
    return [w for w in words if len(w) > 1 and w not in TITLES]


def similarity(a: str, b: str) -> float:
    return Indel.normalized_similarity(a, b) * 100


VOWELS = str.maketrans("", "", "aeiou")


def skeleton(token: str) -> str:
    return token.translate(VOWELS)


@functools.lru_cache(maxsize=1_000_000)
def token_similarity(a: str, b: str) -> float:
    """Romanisations differ mostly in vowels, different names in consonants: weigh both."""
    return (similarity(a, b) + similarity(skeleton(a), skeleton(b))) / 2


def name_score(a: list[str], b: list[str]) -> float:
    """Best token alignment (any order): the mean similarity, or the weakest token's when a
    token clearly differs (a different given name is a different person)."""
    if not a or not b:
        return 0.0
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    best = 0.0
    for chosen in itertools.permutations(long, len(short)):
        scores = [token_similarity(x, y) for x, y in zip(short, chosen, strict=True)]
        weakest = min(scores)
        value = weakest if weakest < WEAKEST_TOKEN else sum(scores) / len(scores)
        best = max(best, value)
    if len(long) > len(short):
        best -= 3 * (len(long) - len(short))  # a middle name more, a little less sure
    return best


@dataclass
class Person:
    id: int
    tokens: list[str]
    city: str
    country: str

    @classmethod
    def of(cls, id: int, name: str, city: str = "", country: str = "") -> Person:
        return cls(id, fold_name(name), " ".join(fold_name(city)), country or "")

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


def score(a: Person, b: Person) -> float:
    value = name_score(a.tokens, b.tokens)
    if a.country and b.country:
        value += 4 if a.country == b.country else -15
    if a.city and b.city:
        value += 4 if similarity(a.city, b.city) >= 80 else -6
    return round(min(value, 100.0), 1)


def candidates(people: list[Person], threshold: float = THRESHOLD) -> list[tuple[int, int, float]]:
    """(id, id, score) for every pair at or above the threshold, best first."""
    blocks: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        for key in person.block_keys():
            blocks[key].append(person)
    seen: set[tuple[int, int]] = set()
    found = []
    for key, members in blocks.items():
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
