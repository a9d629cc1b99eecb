"""Dutch text analysis for the expertise index: fold case and accents, drop stop words, stem.

The stemmer is Snowball's Dutch Porter algorithm (the newer Snowball `dutch` strips the `ge-`
prefix and over-stems: "autisme" → "aut"). Compounds and typos are not handled here but at
query time, against the vocabulary of indexed terms (see search.py). Two things only the text
itself can tell are indexed here: a topic of several words is also indexed as its phrases
("passend onderwijs", so a synonym list can say "inclusie" ~ "passend onderwijs" without
"inclusie" finding every mention of "onderwijs"), and Dutch hyphen elision is spelled out
("lees-, spelling- en rekenproblemen" also indexes leesproblemen and spellingproblemen).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from itertools import pairwise

import snowballstemmer

from handlers.text import fold

TOPIC_WEIGHT = 3.0
DESCRIPTION_WEIGHT = 1.0
MAX_TERM = 100

STOPWORDS = frozenset("""
aan al alle als alles andere bij ben bent ook dan dat de der deze die dit doe doen door dus een en
er ervaring ga gaat geen had heb hebben heeft het hier hij hoe hun iemand iets ik in is ja je jij
jou jouw kan kun kunnen maar me meer met mij mijn na naar niet niets nog nu of om omdat onder ons
onze ook op over te tegen tot u uit van veel voor waar wanneer wat we wel welke wie wij wil zal ze
zich zij zijn zo zoals zou zouden
""".split())

# Words that, next to another word, do not narrow a search down: so common in a school
# cooperation's expertise ("autistische leerlingen" wants whoever knows about autism, whether or
# not they wrote "leerlingen"), or saying how much rather than what ("ernstige gedragsproblemen").
# They still count for the ranking.
COMMON = frozenset("""
basisonderwijs basisschool basisscholen groep groepen kind kinderen klas klassen leerkracht leerkrachten
leerling leerlingen leraar leraren leren onderwijs ouder ouders school scholen
complex complexe ernstig ernstige extra groot grote hardnekkig hardnekkige klein kleine lastig lastige
licht lichte moeilijk moeilijke zwaar zware
""".split())

WORD = re.compile(r"[a-z0-9]+")
# "lees-, spelling- en rekenproblemen", "spraak- en taalontwikkeling": words ending in a hyphen
# that borrow the head of the last word of the list. Tokens: such words, other words, punctuation.
ELISION_TOKEN = re.compile(r"[a-z0-9]+(?:-(?=[\s,]|$))?|[^\sa-z0-9]")
ELISION_JOINS = frozenset({"en", "of", "tot"})
# Heads a Dutch compound in an elided list commonly ends in; without a lexicon this is how we
# know where "rekenproblemen" splits.
HEADS = sorted("""
achterstand achterstanden begaafd begaafde begaafdheid begeleiding beleid educatie hulp klas klassen
onderwijs onderzoek ontwikkeling probleem problemen problematiek protocol specialist specialisten
stoornis stoornissen training vaardigheden zorg
""".split(), key=len, reverse=True)


@cache
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("dutch_porter")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))[:MAX_TERM]


def words(text: str) -> list[str]:
    """Folded words worth searching for: no stop words, no single letters."""
    return [w for w in WORD.findall(fold(text)) if len(w) > 1 and w not in STOPWORDS]


def terms(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def topic_key(topic: str) -> str:
    """How topics are compared: "Gedrag " and "gedrag" are one topic."""
    return " ".join(fold(topic).split())


# Dutch spellings that sound the same: "gedrach" is how "gedrag" sounds.
SOUNDS = (("sch", "s"), ("ch", "g"), ("ij", "ei"), ("y", "ei"), ("ou", "au"), ("dt", "t"), ("th", "t"),
          ("ph", "f"), ("c", "k"), ("z", "s"), ("v", "f"), ("ie", "i"), ("ee", "e"), ("aa", "a"), ("oo", "o"),
          ("uu", "u"))


def sound(term: str) -> str:
    """A key equal for spellings that sound alike: sound("gedrach") == sound("gedrag")."""
    for written, said in SOUNDS:
        term = term.replace(written, said)
    return term[:-1] + "t" if term.endswith("d") else term


def phrase(stems: list[str]) -> str:
    """The index term of several stems in a row: "passend onderwijs"."""
    return " ".join(stems)[:MAX_TERM]


def phrases(stems: list[str]) -> list[str]:
    """Every two stems in a row, the phrases a topic of several words is also indexed as."""
    return [phrase([a, b]) for a, b in pairwise(stems)]


def elided(text: str) -> list[str]:
    """Terms for the compounds Dutch leaves implicit: "lees-, spelling- en rekenproblemen"."""
    found: list[str] = []
    waiting: list[str] = []  # "lees", "spelling"
    joined = False  # seen the "en" after them
    for token in ELISION_TOKEN.findall(fold(text)):
        if token.endswith("-") and not joined:
            waiting.append(token[:-1])
        elif token == "," and waiting and not joined:
            continue
        elif token in ELISION_JOINS and waiting and not joined:
            joined = True
        else:
            if joined and token[0].isalnum():
                head = next((h for h in HEADS if token.endswith(h) and len(token) > len(h)), None)
                found += [stem(word + head) for word in waiting] if head else []
            waiting, joined = [], False
    return found


def index_terms(topic: str, description: str) -> dict[str, float]:
    """The terms an entry is found by, each with the weight of the field it came from."""
    weights = {term: DESCRIPTION_WEIGHT for term in terms(description) + elided(description)}
    topic_terms = terms(topic)
    weights.update({term: TOPIC_WEIGHT for term in topic_terms + elided(topic) + phrases(topic_terms)})
    return weights
