"""Help questions in a channel: "Wie weet iets van thuiszitters?" gets up to three members who know.

This runs on every message in the channels that opted in, so it is built to say no cheaply and
to say yes rarely. Two stages:

1. `is_help_question`: regular expressions over the folded text, no database. A sentence asks the
   channel for help when it opens the way Dutch help questions open ("wie weet/kent/heeft …",
   "heeft/weet/kent iemand …", "iemand ervaring met …", "zijn er mensen die …", "kan iemand mij
   helpen …", "hoe pakken jullie … aan") or says so ("ik zoek iemand die …", "advies gezocht",
   "tips voor …?"). A question mark is not required, people leave it out; for the weaker cues
   ("tips voor …", "hoe kan ik …") it is. Vetoes keep out what looks like a question but is not a
   request for expertise: logistics ("Wie neemt de koffie mee?", "Heeft iemand de notulen?", "Hoe laat
   begint de verdieping over NT2?"), rhetorical remarks ("Wie kent het niet"), reported questions
   ("Sandra vroeg of iemand …"), vacancies. Thanks and announcements carry no cue, so they never pass.
2. `QuestionDetector.experts_for`: the words of the question are matched against the topics members
   *registered*, expanded the way /expertise expands a query (the same ExpertiseSearch: stems,
   the synonym list, compounds, derived forms, typos). Only registered topics count: a word that
   merely occurs in someone's description ("ervaring", "school", "koffie") names no topic. The best
   topic (strongest match, then most members) is then searched exactly as `/expertise <topic>`
   would, so the answer names the people that command would name first.

The detector holds no state but caches: the topics per search version (the counter every write
that changes a search raises, so a cache never outlives a change made by any bot instance).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from handlers.expertise.analysis import COMMON, phrase, sound, stem, words
from handlers.expertise.search import MIN_TYPO, PART, ExpertiseSearch, Vocabulary
from handlers.text import fold
from storage.records import HolderHit, MemberRecord, TopicCount
from storage.repositories import Repositories

MIN_WEIGHT = 0.5  # weaker expansions (a part of a compound's suffix, …) are guesses, not a topic named
MIN_TYPO_LENGTH = 8  # a short word one letter off a topic is usually another word: tekenen / rekenen
PAGE = 10
MAX_TEXT = 2000  # longer messages are announcements and newsletters, not questions to the channel
CACHED_MATCHES = 1024

# -- stage (a): is it a request for help? ----------------------------------------------------------------

# Where a question may start inside a sentence: after a greeting ("Hoi allemaal, weet iemand …"),
# a colon ("Vraagje: wie …"), or a joining word ("en weet iemand ook …").
START = r"(?:^|[,:;(]\s*|\b(?:en|of|maar|dus|ook|verder|trouwens)\s+)"
FILL = r"(?:\s+(?:er|hier|al|ook|nog|wel|misschien|toevallig|ooit|eigenlijk|van\s+jullie|in\s+de\s+groep))*"
# What one has when one can help: "ervaring", "tips", "een goede aanpak", "kaas gegeten van".
KNOWLEDGE = (r"(?:ervaring(?:en)?|verstand|kennis|expertise|tips?|idee(?:en)?|advies|suggesties?|informatie|info"
             r"|voorbeelden?|materiaal|literatuur|handvatten|inzicht|kaas\s+gegeten|contact(?:en|persoon|personen)?"
             r"|(?:een\s+)?(?:goede?|handige?|bruikbare?|fijne?)\s+\w+"
             r"|een\s+(?:methode|aanpak|protocol|boek|training|cursus|interventie|werkvorm|format|app|programma))")
# What one does when one helps: "kan iemand mij helpen / meedenken / adviseren".
HELPING = (r"(?:helpen|meedenken|mee\s+denken|adviseren|advies\s+geven|vertellen|uitleggen|aanraden|tippen"
           r"|doorverwijzen|verwijzen|sparren|informeren|ondersteunen|begeleiden|tips\s+geven|iets\s+vertellen)")
VOLUNTEERING = r"(?:helpen|meedenken|mee\s+denken|adviseren|sparren|meekijken|mee\s+kijken)"
# Whom one asks for: "ik zoek iemand die …", "op zoek naar een specialist".
SOUGHT = (r"(?:iemand|mensen|collega'?s?\s+(?:die|met)|een\s+collega\s+(?:die|met)|(?:een\s+)?(?:expert|specialist"
          r"|deskundige|ervaringsdeskundige|sparringpartner)s?|hulp|advies|tips|informatie|info|ervaring(?:en)?"
          r"|input|ideeen|kennis|expertise|contact)")
GROUP = r"(?:mensen|collega'?s|iemand|scholen|ib-?ers|consulenten|leerkrachten|directeuren|experts|specialisten)"
WAYS = (r"(?:pakken|gaan|doen|werken|organiseren|regelen|begeleiden|ondersteunen|signaleren|benaderen|helpen|bieden"
        r"|zetten|voorkomen|aanpakken|omgaan|richten|vormgeven)")

# Cues strong enough without a question mark.
CUES = [re.compile(START + p) for p in (
    rf"wie{FILL}\s+(?:heeft|hebben){FILL}\s+{KNOWLEDGE}",
    rf"wie{FILL}\s+(?:weet|weten){FILL}\s+(?:iets|meer|veel|wat\s+(?:af\s+)?(?:van|over)|raad|de\s+weg|hoe|of|wie"
    rf"|waar\s+ik|welke|een\s+)",
    rf"wie{FILL}\s+(?:kent|kennen){FILL}\s+(?:een|iemand|goede?|mensen|collega|organisaties?|scholen|methodes?|de|het)",
    rf"wie{FILL}\s+(?:kan|kunnen|zou){FILL}(?:\s+(?:mij|me|ons))?(?:\s+\w+){{0,3}}\s+{HELPING}",
    # "wie wil …" asks for a volunteer: to help, yes; to tell or explain (present at a meeting), no
    rf"wie{FILL}\s+(?:wil|wilt|willen){FILL}(?:\s+(?:mij|me|ons))?(?:\s+\w+){{0,3}}\s+{VOLUNTEERING}",
    r"(?:bij|met|aan)?\s*wie\s+(?:kan|kunnen|moet|moeten|zou|mag)\s+(?:ik|we|wij|je)(?:\s+\w+){0,3}\s+"
    r"(?:bellen|benaderen|mailen|vragen|spreken|raadplegen|inschakelen|terecht|contact|sparren|overleggen|bereiken"
    r"|aanspreken|aankloppen)",
    r"waar\s+(?:kan|kunnen|moet)\s+(?:ik|we|wij|je)(?:\s+\w+){0,3}\s+(?:terecht|aankloppen)",
    r"wie\s+(?:is|zijn)(?:\s+(?:hier|er|binnen\s+het\s+netwerk))?(?:\s+(?:de|een|onze))?\s+(?:expert|specialist"
    r"|deskundige|aanspreekpunt|contactpersoon|kenner)",
    rf"wie{FILL}\s+(?:houdt|houden)\s+zich{FILL}\s+bezig\s+met",
    rf"wie{FILL}\s+(?:werkt|werken|doet|doen|is|zijn){FILL}(?:\s+iets)?\s+(?:met|aan|bezig\s+met|thuis\s+in)\s",
    rf"(?:heeft|hebben|weet|weten|kent|kennen){FILL}\s+(?:iemand|jullie|mensen|collega'?s)(?:\s+\w+)?\s+{KNOWLEDGE}",
    rf"(?:weet|weten){FILL}\s+(?:iemand|jullie|mensen)(?:\s+\w+)?\s+(?:iets|meer|hoe|of|wie|waar|welke|wat|een|raad)",
    rf"(?:kent|kennen){FILL}\s+(?:iemand|jullie|mensen)(?:\s+\w+)?\s+(?:een|iemand|goede?|de|het|mensen|organisaties?"
    r"|collega|scholen|methodes?|literatuur|boeken)",
    rf"(?:is|zijn){FILL}\s+(?:er\s+)?(?:iemand|{GROUP})(?:\s+\w+)?\s+(?:die|met|hier|bekend|thuis)",
    rf"iemand{FILL}\s+(?:die|met\s+(?:ervaring|kennis)|{KNOWLEDGE}|bekend\s+met|thuis\s+in)",
    rf"(?:kan|kunnen|wil|zou|mag){FILL}\s+(?:iemand|jullie|een\s+van\s+jullie)(?:\s+(?:mij|me|ons))?(?:\s+\w+){{0,3}}"
    rf"\s+{HELPING}",
    r"hoe\s+" + WAYS + r"\s+(?:jullie|julie|andere\s+scholen|anderen|collega'?s)",
    r"wat\s+(?:doen|deden)\s+jullie\s+(?:met|bij|aan|als|tegen)",
    r"wat\s+(?:zijn|waren|is)\s+(?:jullie|je)\s+ervaring(?:en)?",
)] + [re.compile(p) for p in (
    r"\b(?:ik|wij|we)\s+(?:zoek|zoeken)(?:\s+\w+)?\s+" + SOUGHT,
    r"\bop\s+zoek\s+naar\s+" + SOUGHT,
    r"\b(?:tips|advies|hulp|input|ideeen|ervaringen|handvatten|suggesties|meedenkers?)\s+(?:gezocht|gevraagd|welkom"
    r"|nodig|zijn\s+welkom|graag)",
    r"\bgraag\s+(?:jullie|je|uw|wat|een\s+beetje|even)?\s*(?:advies|tips|hulp|input|ideeen|ervaringen|expertise"
    r"|mening|meedenken)",
    r"\b(?:jullie|je|uw)\s+(?:advies|tips|hulp|input|ideeen|ervaringen|expertise)\s+(?:graag|gevraagd|nodig)",
    r"\b(?:ik|wij|we)\s+(?:kan|kunnen)\s+wel\s+(?:wat|een\s+beetje)\s+(?:hulp|advies|tips)",
    r"\bvraag\s+(?:me|mij|ons)\s+af\s+(?:of|hoe|wie|wat)",
    r"\bbenieuwd\s+(?:naar\s+(?:jullie\s+)?ervaring|hoe\s+jullie|of\s+(?:iemand|jullie))",
    r"\b(?:laat|laten)(?:\s+(?:het|me|mij|even|maar|gerust))*\s+weten\s+als\s+(?:je|jij|jullie|iemand)\b.*"
    + KNOWLEDGE,
    r",\s*iemand\s*\??\s*$",
)]
# Cues that ask for help only as a question: "Tips voor een kind met faalangst?"
QUESTION_CUES = [re.compile(START + p) for p in (
    r"(?:tips|tip|advies|ideeen|suggesties|ervaringen|ervaring|hulp|handvatten|input)\s+(?:voor|over|bij|rond"
    r"|rondom|omtrent|met|om|m\.?b\.?t\.?)\s",
    r"(?:hoe|wat)\s+(?:kan|kunnen|moet|moeten)\s+(?:ik|we|wij|je)\s",
    r"(?:hoe|wat)\s+(?:pak|doe|ga)\s+(?:ik|je)\s",
    r"wat\s+(?:werkt|helpt)(?:\s+\w+)?\s+(?:bij|voor|tegen)\s",
    r"wat\s+(?:raden|adviseren)\s+jullie",
    r"welke\s+(?:aanpak|methode|methodes|methoden|interventies?|trainingen|training|boeken|boek|materialen|materiaal"
    r"|organisaties?|werkvormen|werkvorm|apps?|toetsen|instrumenten)\s",
    r"vraag(?:je)?\s+(?:aan|voor)\s+(?:de\s+groep|jullie|iedereen|het\s+netwerk|de\s+collega)",
)]

# A question about something else than expertise: a meeting's practicalities, a document, food.
LOGISTICS = re.compile(
    r"\b(?:notulen|notuleren|notulist|koffie|thee|lunch\w*|broodjes|taart|sleutels?|parkeer\w*|beamer|oplader|laptop"
    r"|hoe\s+laat|aanmeld\w*|inschrijv\w*|ingeschreven|opgeven|afmeld\w*|afgemeld|doorgaat|door\s+gaat|afgelast"
    r"|vacature\w*|solliciteren|carpool\w*|meerijden|mee\s+(?:wil\s+|willen\s+)?rijden|kopieer\w*|printer|wifi"
    r"|wachtwoord|agenda\w*|zin\s+om|(?:de|die|jouw|je|haar|zijn)\s+(?:presentatie|slides|sheets|powerpoint)"
    r"|nieuwe\s+collega|per\s+direct|fte|klaarzetten|opruimen|afwassen|sjouwen)\b")
MEETING = re.compile(r"\b(?:overleg|bijeenkomst|vergadering|verdieping|afstemmingsoverleg|studiedag|training|webinar"
                     r"|sessie|netwerkbijeenkomst|meeting|intervisie|cursus|teams-?\w*|zoom)\b")
WHEN_WHERE = re.compile(r"\b(?:wanneer|tijd|begint|start|eindigt|locatie|lokaal|zaal|link|adres|ruimte"
                        r"|waar\s+(?:is|zijn|was|vindt|wordt))\b")
RHETORICAL = re.compile(r"\bwie\s+(?:kent|wil|heeft|weet|had|wist|zou)\s+(?:het|dat|dit|die|daar)?\s*"
                        r"(?:niet|geen|nou)\b|\bwie\s+had\s+(?:dat|het)?\s*gedacht|\bwie\s+weet\s+(?:wat\s+de|hoe\s+het\s+afloopt)")
REPORTED = re.compile(r"\b(?:vroeg|vroegen|vroeg\s+zich|had\s+gevraagd|hadden\s+gevraagd|heeft\s+gevraagd)\s")

URL = re.compile(r"<[^>]*>|https?://\S+|www\.\S+")
MENTION = re.compile(r"(?:^|(?<=\s))@[\w.-]+(?::[\w.-]+)?")  # "@channel", "@room", "@sanne", "@sanne:server"
SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
QUOTE = re.compile(r"^\s*(?:>|&gt;)")

# Words of the cues themselves: never read as a topic ("helpen", "tips", "collega's").
CUE_WORDS = frozenset("""
weet weten kent kennen ken heeft hebben heb help helpen helpt meedenken denken adviseren advies vertellen uitleggen
aanraden tippen sparren informeren tips tip idee ideeen kennis verstand expertise zoek zoeken zoekt vraag vraagje
vragen collega collegas mensen hulp goede goed aanpak suggestie suggesties informatie info hoi hallo hey beste
allemaal iedereen allen goedemorgen goedemiddag jullie julie kaas gegeten gebied expert experts specialist
specialisten deskundige bellen benaderen mailen terecht contact gezocht gevraagd welkom nodig graag misschien
toevallig eigenlijk houdt bezig werkt werken doet regio raad handvatten input benieuwd
""".split())


@dataclass(frozen=True)
class Sentence:
    text: str  # folded
    asks: bool  # a request for help
    content: bool  # names something besides the cue: "Wie heeft tips?" does not


def _sentences(text: str) -> list[Sentence]:
    """The message's sentences, folded, each judged on its own: "Dank! Heeft iemand ook tips?" asks."""
    if len(text) > MAX_TEXT or text.lstrip().startswith(("/", "!")):  # a command, not a message
        return []
    lines = [line for line in text.splitlines() if not QUOTE.match(line)]  # someone else's words
    folded = URL.sub(" ", fold("\n".join(lines)).replace("’", "'").replace("‘", "'"))
    folded = MENTION.sub(",", folded)  # "@channel wie weet …": a question may start after a mention
    found = []
    for raw in SENTENCE.findall(folded):
        sentence = " ".join(raw.split())
        if not any(ch.isalpha() for ch in sentence):
            continue
        content = any(w not in CUE_WORDS for w in words(sentence))
        found.append(Sentence(sentence, _asks(sentence), content))
    return found


def _asks(sentence: str) -> bool:
    """One folded sentence: the vetoes first (a logistics question has a help cue often enough),
    then the strong cues, then the weak ones, which count only as a question."""
    if LOGISTICS.search(sentence) or RHETORICAL.search(sentence) or REPORTED.search(sentence):
        return False
    if MEETING.search(sentence) and WHEN_WHERE.search(sentence):
        return False
    body = sentence.rstrip(" .!")
    if any(cue.search(body) for cue in CUES):
        return True
    return body.endswith("?") and any(cue.search(body) for cue in QUESTION_CUES)


def is_help_question(text: str) -> bool:
    """Whether the message asks the channel for help, knowledge or a contact (any topic)."""
    return any(s.asks for s in _sentences(text))


def question_text(text: str) -> str:
    """The part of a help question its topic is read from: the sentences that ask, and when those
    name nothing but the asking ("Wie heeft tips?"), the sentences around them too. "" if it asks nothing."""
    sentences = _sentences(text)
    asking = [s for s in sentences if s.asks]
    if not asking:
        return ""
    if any(s.content for s in asking):
        return " ".join(s.text for s in asking)
    return " ".join(s.text for s in sentences if s.asks or not (LOGISTICS.search(s.text) or MEETING.search(s.text)))


# -- stage (b): does it name a topic that has experts? ----------------------------------------------------


@dataclass(frozen=True)
class Experts:
    """Whom to offer for a help question."""

    topic: str  # the topic as registered (e.g. "thuiszitters"), for the answer's wording
    hits: tuple[HolderHit, ...]  # at most `limit` members (not organisations), best first, never the asker


@dataclass
class _Topics:
    """The registered topics of one search version, by the index term that names each."""

    version: int = -1
    by_term: dict[str, list[TopicCount]] = field(default_factory=dict)
    matches: dict[tuple[str, ...], list[tuple[TopicCount, float]]] = field(default_factory=dict)


def topic_term(topic: TopicCount) -> str:
    """The index term a registered topic is found by: its stem, or for several words their phrase.

    A topic of more than two words is named by its first two ("executieve functies bij pubers");
    the index holds its phrases of two words (analysis.phrases), and a longer phrase would never match.
    """
    stems = [stem(w) for w in words(topic.topic)]
    return phrase(stems[:2])


class QuestionDetector:
    """Finds the members to offer when someone asks a channel for help (see the module docstring)."""

    def __init__(self, search: ExpertiseSearch) -> None:
        self.search = search
        self._topics = _Topics()

    async def experts_for(self, repos: Repositories, text: str, *, asker_id: int | None,
                          limit: int = 3) -> Experts | None:
        """None unless `text` is a request for help about a topic that has experts.

        The database is read only for a message that asks for help (stage a is pure), and then
        mostly from caches: the search version, the topics and vocabulary of that version, the
        ranking of the topic. Candidate topics are tried best first; a topic whose only members are
        the asker (or only organisations) gives way to the next.
        """
        question = question_text(text)
        if not question:
            return None
        return await self.experts_about(repos, question, asker_id=asker_id, limit=limit)

    async def experts_about(self, repos: Repositories, text: str, *, asker_id: int | None,
                            limit: int = 3) -> Experts | None:
        """The members who know about the topics `text` names, asked or not ("Wie weet dit?" on a message)."""
        if limit < 1:
            return None
        for topic, _ in await self.topics_in(repos, text):
            hits = await self._members(repos, topic.topic, asker_id=asker_id, limit=limit)
            if hits:
                return Experts(topic=topic.topic, hits=hits)
        return None

    async def topics_in(self, repos: Repositories, text: str) -> list[tuple[TopicCount, float]]:
        """The registered topics `text` names, best first, each with the weight of its best match.

        Ranked by that weight (the topic's own word before a synonym before a part of a compound),
        then by how many members registered it.
        """
        version, _ = await repos.expertise.search_state()
        await self.search.catch_up(repos, version)  # topics change with expertise, not with a member's name
        vocabulary = await self.search.refresh(repos)
        if self.search.expertise_version != self._topics.version:
            self._topics = _Topics(version=self.search.expertise_version,
                                   by_term=_by_term(await repos.expertise.topic_counts()))
        typed = tuple(words(text))
        cached = self._topics.matches.get(typed)
        if cached is None:
            cached = self._match(typed, vocabulary)
            if len(self._topics.matches) >= CACHED_MATCHES:
                self._topics.matches.clear()
            self._topics.matches[typed] = cached
        return cached

    def _match(self, typed: tuple[str, ...], vocabulary: Vocabulary) -> list[tuple[TopicCount, float]]:
        weights: dict[str, float] = {}
        for term, weight in self._terms(typed, vocabulary).items():
            for topic in self._topics.by_term.get(term, ()):
                weights[topic.topic_key] = max(weight, weights.get(topic.topic_key, 0.0))
        topics = {t.topic_key: t for ts in self._topics.by_term.values() for t in ts}
        ranked = sorted(weights.items(), key=lambda kv: (-kv[1], -topics[kv[0]].members, kv[0]))
        return [(topics[key], weight) for key, weight in ranked if weight >= MIN_WEIGHT]

    def _terms(self, typed: tuple[str, ...], vocabulary: Vocabulary) -> dict[str, float]:
        """The index terms the question's words reach, through the search's own expansion.

        Each word is expanded on its own, so that a common word ("school", "ouders") reaches only
        itself and not every compound it starts ("schoolweigering"), and a short word that is a
        typo of nothing ("tekenen") is left alone; words in a row add the phrases they form
        ("passend onderwijs") and their synonyms. A compound the expansion reaches also reaches the
        topics it is made of (dyscalculie ~ rekenproblemen, a compound of the topic rekenen).
        """
        found: dict[str, float] = {}

        def add(terms: Iterable[tuple[str, float]]) -> None:
            for term, weight in terms:
                found[term] = max(weight, found.get(term, 0.0))

        singles: list[dict[str, float]] = []  # what each word reaches alone, kept or not
        for word in typed:
            expanded = self.search.expand(word, vocabulary)
            singles.append(expanded)
            if word in CUE_WORDS or not self._plain(word, vocabulary):
                continue
            add((t, w) for t, w in expanded.items() if w >= 1.0 or word not in COMMON)
        for length in range(2, max([2, *self.search.phrase_lengths]) + 1):
            for i in range(len(typed) - length + 1):
                window = typed[i:i + length]
                if all(w in CUE_WORDS for w in window):
                    continue
                alone = set().union(*singles[i:i + length])  # only what the words reach together
                add((t, w) for t, w in self.search.expand(" ".join(window), vocabulary).items() if t not in alone)
        for term, weight in list(found.items()):
            if " " not in term:
                add((part, weight * PART) for part in vocabulary.parts(term) if part != term)
        return found

    @staticmethod
    def _plain(word: str, vocabulary: Vocabulary) -> bool:
        """False for a word the search would only read as a typo of another real word.

        The search corrects every unknown word of five letters or more to a known one a letter off;
        for a query someone typed on purpose that is right, in chat it turns "tekenen" into "rekenen".
        A correction is kept when it swaps two letters or sounds the same ("gedarg", "gedrach"), or
        when the word is long enough that an unknown word one letter off is a typo ("thuiszittres").
        """
        own = stem(word)
        if len(own) < MIN_TYPO or len(word) >= MIN_TYPO_LENGTH:  # the search corrects neither
            return True
        known = own in vocabulary.known or any(vocabulary.starting_with(word))
        fixes = vocabulary.topic_typos(word) if known else vocabulary.typos(own)
        return not fixes or any(sound(f) == sound(own) or _swapped(f, own) for f in fixes)

    async def _members(self, repos: Repositories, topic: str, *, asker_id: int | None,
                       limit: int) -> tuple[HolderHit, ...]:
        """The first `limit` members `/expertise <topic>` ranks, leaving out organisations and the asker."""
        hits: list[HolderHit] = []
        offset = 0
        while len(hits) < limit:
            page = await self.search.search(repos, topic, limit=PAGE, offset=offset)
            hits += [h for h in page.hits if isinstance(h.holder, MemberRecord) and h.holder.id != asker_id]
            offset += PAGE
            if offset >= page.total:
                break
        return tuple(hits[:limit])


def _by_term(topics: list[TopicCount]) -> dict[str, list[TopicCount]]:
    by_term: dict[str, list[TopicCount]] = {}
    for topic in topics:
        term = topic_term(topic)
        if term:
            by_term.setdefault(term, []).append(topic)
    return by_term


def _swapped(a: str, b: str) -> bool:
    """Whether two words differ by two neighbouring letters swapped: "gedarg" / "gedrag"."""
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
