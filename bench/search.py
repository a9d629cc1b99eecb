"""/expertise search: speed at 100,000 entries and quality on a labelled Dutch query set.

    /tmp/venv/bin/python bench/search.py              SQLite (a fresh file in a temporary directory)
    /tmp/venv/bin/python bench/search.py --postgres   also a fresh database on the local PostgreSQL

Speed: 100,000 entries of 15,000 members and 500 organisations, ~60 topics in their usual spellings,
descriptions drawn from what IB-ers, consultants and CJG workers write, plus a long tail of rarer
compounds and method names (a vocabulary of tens of thousands of terms, as years of free text make).
The rows are inserted in bulk, indexed exactly as the bot does (analysis.index_terms); then each
search is timed end to end as the dispatcher runs it: open a transaction, ExpertiseSearch.search
(vocabulary check, expansion, the ranked query for one page of 8), commit. Goal: p99 < 5 ms.

Quality: the labelled corpus of bench/search_corpus.toml (also used by the tests) in its own fresh
database, registered through the bot's own save path. Recall and precision are micro-averaged over
all queries: recall = relevant holders returned / relevant holders; precision = relevant holders
returned / holders returned, counting *every* result (all pages), not just the first page.
Goal: recall >= 0.95.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import tomllib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench.bulk import bulk_insert  # noqa: E402
from bench.postgres import fresh_database  # noqa: E402
from config.settings import Settings  # noqa: E402
from handlers.expertise.analysis import index_terms, topic_key  # noqa: E402
from handlers.expertise.search import ExpertiseSearch, load_synonyms  # noqa: E402
from handlers.text import fold  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Expertise, ExpertiseTerm, Member, Organisation, SearchTerm  # noqa: E402
from storage.records import Holder  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "search_corpus.toml"
ENTRIES = 100_000
MEMBERS = 15_000  # 15,500 holders at 100,000 entries; scaled down with --entries
ORGANISATIONS = 500
PAGE = 8
P99_GOAL_MS = 5.0
COLD_GOAL_MS, COLD_GOAL_SMALL_MS = 50.0, 10.0  # the first search after a change, at 100k and at 10k entries
RECALL_GOAL = 0.95
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)

# -- a realistic vocabulary ---------------------------------------------------------------------------
# topic spellings (as people type them) → what they write about it

TOPICS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("gedrag", "Gedrag", "gedragsproblemen", "gedragsspecialist", "Wegwijs in gedrag"): (
        "observaties in de klas", "handelingsadviezen bij lastig gedrag", "functionele gedragsanalyse",
        "groepsplan gedrag", "time-out en herstelgesprekken", "meervoudig perspectief op leerlinggedrag",
        "storend gedrag in de groep"),
    ("hoogbegaafdheid", "meerbegaafdheid", "hoogbegaafd", "plusklas"): (
        "signaleren met het DHH", "compacten en verrijken", "onderpresteerders", "verrijkingsmateriaal",
        "de bovenschoolse plusklas", "leren leren voor slimme kinderen"),
    ("thuiszitters", "verzuim", "schoolweigering", "leerplicht"): (
        "een terugkeerplan met school en ouders", "verzuimgesprekken", "casusregie bij thuiszitters",
        "samen met leerplicht", "ongeoorloofd verzuim melden", "stap voor stap terug naar school"),
    ("groeiklas", "tussenvoorziening"): (
        "opzet en evaluatie van de groeiklas", "tijdelijk meer structuur", "financiering via het swv"),
    ("dyslexie", "leesproblemen", "dyslexiezorg"): (
        "dyslexieonderzoek aanvragen", "vergoede zorg bij EED", "het dyslexieprotocol", "voorleessoftware",
        "leesinterventies voor zwakke lezers", "technisch lezen"),
    ("dyscalculie", "rekenen", "rekenproblemen"): (
        "een dyscalculieverklaring", "het protocol ERWD", "automatiseren van de tafels", "rekenhulpmiddelen",
        "rekenonderwijs in de middenbouw"),
    ("autisme", "ASS", "prikkelverwerking"): (
        "leerlingen met ASS in het regulier onderwijs", "voorspelbaarheid en structuur", "prikkelarme werkplek",
        "visuele dagplanning", "ambulante begeleiding vanuit het SO"),
    ("ADHD", "concentratieproblemen"): (
        "concentratie en impulsiviteit", "afstemming met de huisarts over medicatie", "korte taken en een timer"),
    ("NT2", "nieuwkomers", "anderstalige ouders", "taalachterstand"): (
        "Nederlands als tweede taal", "woordenschatonderwijs", "eerste opvang van nieuwkomers",
        "tolken en vertaalde brieven", "Oekraïense leerlingen"),
    ("faalangst", "welbevinden", "sociaal-emotionele ontwikkeling"): (
        "faalangsttraining voor groep 7 en 8", "omgaan met toetsstress", "Kanvas en ZIEN! afnemen",
        "lessen in sociale vaardigheden", "weerbaarheid"),
    ("pesten", "sociale veiligheid", "mediawijsheid"): (
        "het antipestprogramma KiVa", "het pestprotocol", "gesprekken met pesters en gepeste kinderen",
        "de monitor sociale veiligheid", "online pesten en sociale media"),
    ("jonge kind", "kleuters", "VVE", "vroegsignalering"): (
        "spelend leren in groep 1-2", "beginnende geletterdheid", "warme overdracht vanuit de voorschool",
        "ontwikkeling volgen zonder toetsen", "zorgen bij peuters vroeg signaleren"),
    ("jeugdhulp", "opvoedondersteuning", "schoolmaatschappelijk werk"): (
        "toegang tot jeugdhulp", "korte lijnen met het wijkteam", "opvoedvragen van ouders", "oudercursussen",
        "doorverwijzen naar het CJG"),
    ("inclusie", "passend onderwijs", "inclusief onderwijs"): (
        "thuisnabij onderwijs", "arrangementen aanvragen", "het ondersteuningsplan", "het groeidocument",
        "extra ondersteuningsbehoefte"),
    ("SBO", "speciaal basisonderwijs", "SO", "speciaal onderwijs", "TLV"): (
        "een toelaatbaarheidsverklaring aanvragen", "observatieplaatsing", "terugplaatsing naar het regulier",
        "kleine groepen en extra begeleiding", "cluster 4"),
    ("executieve functies", "leren leren"): (
        "plannen en organiseren", "werkgeheugen", "zelfregulatie oefenen", "studievaardigheden"),
    ("motoriek", "motorische ontwikkeling", "schrijfmotoriek"): (
        "fijne en grove motoriek", "sensorische informatieverwerking", "de MQ-scan", "bewegingsonderwijs"),
    ("spraak-taal", "TOS", "logopedie"): (
        "spraak- en taalontwikkeling", "een taalontwikkelingsstoornis", "stotteren", "screening bij kleuters",
        "samenwerking met Auris"),
    ("trauma", "hechting"): (
        "traumasensitief lesgeven", "hechtingsproblematiek bij pleegkinderen",
        "heftig gedrag na ingrijpende ervaringen"),
    ("ouderbetrokkenheid", "oudergesprekken"): (
        "ideeën om ouders te betrekken", "driehoeksgesprekken met kind, ouder en leerkracht",
        "slecht-nieuwsgesprekken"),
    ("begrijpend lezen", "spelling", "woordenschat"): (
        "strategieën voor begrijpend lezen", "spellingproblemen aanpakken", "voorlezen in de klas"),
    ("klassenmanagement", "coaching startende leerkrachten", "coöperatief leren"): (
        "rust en structuur in de groep", "het instructiemodel", "coöperatieve werkvormen", "routines en afspraken"),
    ("zorgstructuur", "handelingsgericht werken", "ontwikkelingsperspectief"): (
        "groepsbesprekingen en leerlingbesprekingen", "het OPP opstellen", "een eigen leerlijn"),
    ("armoede", "diagnostiek", "intelligentieonderzoek", "agressie", "Rots en Water", "bewegend leren",
     "filosoferen met kinderen", "schoolontwikkeling", "re-integratie", "jeugdgezondheidszorg"): (
        "regelingen zoals Leergeld", "psychodiagnostisch onderzoek", "IQ-onderzoek met de WISC-V",
        "de-escaleren bij agressief gedrag", "weerbaarheidstraining", "rekenen met beweging op het schoolplein",
        "filosofische gesprekken", "veranderprocessen in het team", "een aangepast rooster", "ziekteverzuim"),
}

GENERIC = (
    "voor leerkrachten en IB-ers", "in de klas", "samen met ouders", "in het regulier basisonderwijs",
    "voor de hele school", "in de bovenbouw", "in de onderbouw", "met de intern begeleider", "als consulent",
    "vanuit het samenwerkingsverband", "in de regio Alkmaar", "ook voor het team", "met praktische tips",
    "op basis van jarenlange ervaring", "inclusief scholing", "voor leerlingen van groep 1 tot en met 8",
)

MODIFIERS = (
    "lees schrijf reken taal spelling gedrags leer klassen school groeps ouder team kind jeugd zorg les "
    "werk toets plan ontwikkelings signalerings begeleidings onderzoeks observatie interventie verrijkings "
    "spel beweeg denk praat luister kijk speel woord zins verhaal prenten beeld muziek sport natuur "
    "techniek wereld media burgerschap handelings opbrengst kwaliteits verbeter scholings trainings "
    "coaching intervisie samenwerkings netwerk wijk buurt gezins opvoedings pleeg adoptie asiel "
    "vluchtelingen vakantie zomer winter ochtend middag dag week maand jaar trimester periode "
    "overgangs doorstroom uitstroom instroom aanmeld toelatings verwijs terugplaatsings arrangement "
    "budget subsidie kosten formatie rooster gebouw plein gym zwem excursie kamp feest viering"
).split()
HEADS = (
    "aanpak methode protocol plan gesprek overleg training cursus les map kaart lijst schema spel "
    "materiaal moment ronde bijeenkomst dag avond middag traject programma project beleid visie "
    "doelen resultaten opbrengsten evaluatie analyse rapport verslag dossier formulier procedure "
    "route loket team groep netwerk coach specialist begeleider coördinator deskundige adviseur "
    "ondersteuning begeleiding hulp zorg aandacht signalen problemen vragen wensen behoeften kansen "
    "vaardigheden ontwikkeling houding klimaat cultuur structuur regels afspraken rollen taken"
).split()
METHODS = (
    "KiVa Levelwerk Kanjertraining Taakspel PBS Leskracht Connect Estafette Bouw Veilig Leren Lezen "
    "Pittige Plustorens Rekentuin Squla Snappet Gynzy Wereld Getallen Pluspunt Staal Taal Actief "
    "Nieuwsbegrip Cito IEP ZIEN Kanvas SCOL Vreedzame School Rots Water Marietje Kessels Leefstijl "
    "Breinhelden Mindset Kwink Grip Sprongen Schatkist Piramide Startblokken Uk Puk Kleuterplein"
).split()


@dataclass(frozen=True)
class Timing:
    kind: str
    query: str
    ms: float
    found: int  # holders in the result (all pages)


# -- the labelled corpus ------------------------------------------------------------------------------


def load_corpus(path: Path = CORPUS) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


async def load_labelled(db: Database, corpus: dict[str, Any]) -> None:
    """Register the labelled entries through the bot's own save path (one transaction each)."""
    holders: dict[str, Holder] = {}
    organisations = set(corpus["organisations"])
    for entry in corpus["entries"]:
        name = entry["holder"]
        async with db.transaction() as repos:
            if name not in holders:
                if name in organisations:
                    holders[name], _ = await repos.organisations.upsert(
                        name=name, name_key=fold(name), kind="organisatie", werkgebied="Alkmaar", now=NOW)
                else:
                    member = await repos.members.get(await repos.members.create(name=name, now=NOW))
                    assert member is not None
                    holders[name] = member
            await repos.expertise.save(holder=holders[name], topic=entry["topic"], topic_key=topic_key(entry["topic"]),
                                       description=entry["description"],
                                       terms=index_terms(entry["topic"], entry["description"]), now=NOW)


@dataclass(frozen=True)
class Quality:
    queries: int
    relevant: int
    returned: int
    found: int
    first_page_returned: int
    first_page_found: int
    misses: tuple[tuple[str, tuple[str, ...]], ...] = ()
    false_hits: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def recall(self) -> float:
        return self.found / self.relevant if self.relevant else 1.0

    @property
    def precision(self) -> float:
        return self.found / self.returned if self.returned else 1.0

    @property
    def first_page_precision(self) -> float:
        return self.first_page_found / self.first_page_returned if self.first_page_returned else 1.0


SETS = {0: "tuning set", 1: "held out 1 (seen)", 2: "held out 2 (seen)", 3: "held out 3 (unseen)"}


async def measure_quality(db: Database, search: ExpertiseSearch, corpus: dict[str, Any]) -> dict[str, Quality]:
    """Micro-averaged recall and precision per query set and over all ("all")."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
    misses: list[tuple[str, tuple[str, ...]]] = []
    false_hits: list[tuple[str, tuple[str, ...]]] = []
    for q in corpus["queries"]:
        async with db.transaction() as repos:
            page = await search.search(repos, q["query"], limit=1000)
        names = [hit.holder.name for hit in page.hits]
        wanted = set(q["relevant"])
        numbers = (1, len(wanted), len(names), len(wanted & set(names)), len(names[:PAGE]),
                   len(wanted & set(names[:PAGE])))
        for name in (SETS[int(q.get("held_out", 0))], "all"):
            counts[name] = [a + b for a, b in zip(counts[name], numbers, strict=True)]
        if wanted - set(names):
            misses.append((q["query"], tuple(sorted(wanted - set(names)))))
        if set(names) - wanted:
            false_hits.append((q["query"], tuple(n for n in names if n not in wanted)))
    result = {name: Quality(queries=c[0], relevant=c[1], returned=c[2], found=c[3], first_page_returned=c[4],
                            first_page_found=c[5]) for name, c in counts.items()}
    result["all"] = replace(result["all"], misses=tuple(misses), false_hits=tuple(false_hits))
    return result


# -- 100,000 synthetic entries --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    entries: int
    members: int
    organisations: int

    @classmethod
    def of(cls, entries: int) -> Scale:
        factor = entries / ENTRIES
        return cls(entries, max(1, round(MEMBERS * factor)), max(1, round(ORGANISATIONS * factor)))

    @property
    def holders(self) -> int:
        return self.members + self.organisations


def synthetic_entries(rng: random.Random, scale: Scale) -> Iterator[tuple[int, bool, str, str]]:
    """(holder number, is organisation, topic, description), unique per holder and topic."""
    groups = list(TOPICS.items())
    weights = [1 / (rank + 1) ** 0.6 for rank in range(len(groups))]  # gedrag is asked about more than armoede
    long_tail = [m + h for m in MODIFIERS for h in HEADS]
    per_holder = scale.entries // scale.holders
    extra = scale.entries - per_holder * scale.holders
    for holder in range(scale.holders):
        taken: set[str] = set()
        count = per_holder + (1 if holder < extra else 0)
        while len(taken) < count:
            spellings, phrases = rng.choices(groups, weights)[0]
            topic = rng.choice(spellings)
            if topic_key(topic) in taken:
                continue
            taken.add(topic_key(topic))
            parts = rng.sample(phrases, k=min(len(phrases), rng.randint(1, 3)))
            parts += rng.sample(GENERIC, k=rng.randint(0, 2))
            parts += rng.sample(long_tail, k=rng.randint(0, 2))
            if rng.random() < 0.4:  # Dutch glues words freely: most of the vocabulary is seen once
                parts.append(rng.choice(MODIFIERS) + rng.choice(MODIFIERS) + rng.choice(HEADS))
            if rng.random() < 0.3:
                parts.append(f"met {rng.choice(METHODS)}")
            if rng.random() < 0.05:  # years of free text: a typo here and there
                word = rng.choice(phrases).split()[-1]
                i = rng.randrange(max(1, len(word) - 1))
                parts.append(word[:i] + word[i + 1:i + 2] + word[i:i + 1] + word[i + 2:])
            description = ", ".join(parts)
            yield holder, holder >= scale.members, topic, description[0].upper() + description[1:] + "."


async def build_large(db: Database, rng: random.Random, scale: Scale) -> tuple[int, int, float]:
    """Insert the synthetic network in bulk; returns (entries, vocabulary size, seconds).

    The rows are what ExpertiseRepository.save writes (index_terms of topic and description, and
    every new term in search_terms), inserted in batches in one transaction instead of one each.
    """
    started = time.perf_counter()
    expertise: list[dict[str, Any]] = []
    terms: list[dict[str, Any]] = []
    vocabulary: set[str] = set()
    for number, (holder, is_org, topic, description) in enumerate(synthetic_entries(rng, scale), start=1):
        confirmed = NOW - timedelta(days=rng.randint(0, 700))
        expertise.append({
            "id": number, "member_id": None if is_org else holder + 1,
            "organisation_id": holder - scale.members + 1 if is_org else None,
            "topic": topic, "topic_key": topic_key(topic), "description": description,
            "created_at": confirmed, "confirmed_at": confirmed})
        weights = index_terms(topic, description)
        terms += [{"expertise_id": number, "term": t, "weight": w} for t, w in weights.items()]
        vocabulary.update(weights)
    organisations = [{"id": n + 1, "name": f"Organisatie {n + 1}", "name_key": f"organisatie {n + 1}",
                      "kind": rng.choice(["school", "sbo", "so", "organisatie"]), "werkgebied": "Alkmaar",
                      "created_at": NOW} for n in range(scale.organisations)]
    members = [{"id": n + 1, "name": f"Lid {n + 1}", "title": "", "email": None, "role": "ib-er",
                "organisation_id": rng.randint(1, scale.organisations), "created_at": NOW}
               for n in range(scale.members)]
    await bulk_insert(db, [
        (Organisation, organisations), (Member, members), (Expertise, expertise),
        (ExpertiseTerm, terms), (SearchTerm, [{"term": t} for t in sorted(vocabulary)])])
    return len(expertise), len(vocabulary), time.perf_counter() - started


QUERIES: dict[str, tuple[str, ...]] = {
    "exact": ("gedrag", "dyslexie", "autisme", "rekenen", "pesten", "groeiklas"),
    "compound": ("gedragsproblemen", "gedragsspecialist", "schoolverzuim", "rekenproblemen", "pestprotocol"),
    "typo": ("gedarg", "dislexie", "autsime", "hoogbegafd", "thuiszittres", "faalanst"),
    "synonym": ("meerbegaafd", "verzuim", "ASS", "jeugdzorg", "leesproblemen", "nieuwkomers"),
    "multiword": ("sociale veiligheid", "jonge kind", "passend onderwijs", "begrijpend lezen",
                  "executieve functies", "oekraiense leerlingen"),
    "rare or none": ("voetbaltraining", "belastingaangifte", "zwemles", "schoolfotograaf", "verkeersexamen"),
}


MODES = {
    "warm": "asked before, nothing changed since",
    "cold": "the first search after an entry the query finds was changed (re-confirmed, by another instance)",
    "name": "the first search after a member's name changed (a first contact whose Slack name differs)",
    "first": "the first time the process is asked anything (postings loaded from the database)",
}


async def change(db: Database, search: ExpertiseSearch, mode: str, query: str, rng: random.Random,
                 scale: Scale) -> None:
    """What happens between two searches in `mode`, written as another bot instance would."""
    member_id = rng.randint(1, scale.members)
    async with db.transaction() as repos:
        member = await repos.members.get(member_id)
        assert member is not None
        if mode == "cold":  # an entry the query finds (any entry when it finds none), so its ranking is redone
            terms = list(search.expand(query, search.vocabulary))
            entry = await repos.session.scalar(select(ExpertiseTerm.expertise_id).where(
                ExpertiseTerm.term.in_(terms)).limit(1).offset(rng.randint(0, 20))) if terms else None
            await repos.expertise.confirm(entry or rng.randint(1, scale.entries), NOW)
        elif mode == "name":
            await repos.members.update(member_id, name=f"{member.name.split(' (')[0]} ({rng.randint(1, 10**6)})")


async def time_searches(db: Database, search: ExpertiseSearch, rounds: int, rng: random.Random,
                        *, mode: str = "warm", scale: Scale | None = None) -> list[Timing]:
    """Each search timed as the dispatcher runs it, in one of the MODES (the change before it is not timed)."""
    plan = [(kind, query) for kind, queries in QUERIES.items() for query in queries]
    for _, query in plan * 2:  # warm-up: caches, prepared statements, the vocabulary
        async with db.transaction() as repos:
            await search.search(repos, query, limit=PAGE)
    timings = []
    for _ in range(rounds):
        rng.shuffle(plan)
        for kind, query in plan:
            if mode == "first":
                search.forget(index=True)
            elif mode != "warm":
                assert scale is not None
                await change(db, search, mode, query, rng, scale)
            started = time.perf_counter()
            async with db.transaction() as repos:
                page = await search.search(repos, query, limit=PAGE)
            timings.append(Timing(kind, query, (time.perf_counter() - started) * 1000, page.total))
    return timings


async def time_floor(db: Database, count: int) -> list[float]:
    """The least a search can cost: its transaction and the version read."""
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        async with db.transaction() as repos:
            await repos.expertise.search_state()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def report_speed(label: str, timings: list[Timing], goal: float = P99_GOAL_MS) -> bool:
    by_kind: dict[str, list[float]] = defaultdict(list)
    for timing in timings:
        by_kind[timing.kind].append(timing.ms)
    found: dict[str, list[int]] = defaultdict(list)
    for timing in timings:
        found[timing.kind].append(timing.found)
        found["**all**"].append(timing.found)
    print(f"\n| {label} | searches | holders found (median) | p50 ms | p95 ms | p99 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, values in [*by_kind.items(), ("**all**", [t.ms for t in timings])]:
        print(f"| {kind} | {len(values)} | {statistics.median(found[kind]):,.0f} | {statistics.median(values):.2f} | "
              f"{percentile(values, 95):.2f} | {percentile(values, 99):.2f} | {max(values):.2f} |")
    medians = {q: statistics.median(t.ms for t in timings if t.query == q) for q in {t.query for t in timings}}
    slowest = sorted(medians.items(), key=lambda kv: -kv[1])[:3]
    print(f"\nslowest queries (median): {', '.join(f'{q} {ms:.1f} ms' for q, ms in slowest)}")
    p99 = percentile([t.ms for t in timings], 99)
    met = p99 < goal
    print(f"goal p99 < {goal:g} ms: {'MET' if met else 'NOT MET'} (p99 {p99:.2f} ms)")
    return met


def report_quality(quality: dict[str, Quality]) -> bool:
    print("\n| query set | queries | relevant pairs | recall | precision (all returned) | precision (first page) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in [*SETS.values(), "all"]:
        if name in quality:
            q = quality[name]
            label = "**all**" if name == "all" else name
            print(f"| {label} | {q.queries} | {q.relevant} | {q.recall:.3f} ({q.found}/{q.relevant}) | "
                  f"{q.precision:.3f} ({q.found}/{q.returned}) | {q.first_page_precision:.3f} |")
    everything = quality["all"]
    for query, names in everything.misses:
        print(f"  missed    {query!r}: {', '.join(names)}")
    for query, names in everything.false_hits:
        print(f"  not asked {query!r}: {', '.join(names)}")
    met = everything.recall >= RECALL_GOAL
    print(f"goal recall >= {RECALL_GOAL} (all queries): {'MET' if met else 'NOT MET'} ({everything.recall:.3f})")
    return met


# -- databases ------------------------------------------------------------------------------------------


async def run_speed(url: str, label: str, rounds: int, synonyms: list[Any], scale: Scale) -> bool:
    db = Database(url)
    try:
        await db.upgrade()
        count, vocabulary, seconds = await build_large(db, random.Random(20261124), scale)
        print(f"\n{label}: {count:,} entries, {scale.holders:,} holders, "
              f"{vocabulary:,} distinct index terms; built in {seconds:.1f} s")
        search = ExpertiseSearch(synonyms)
        async with db.transaction() as repos:
            started = time.perf_counter()
            await search.refresh(repos)
            print(f"vocabulary and topics loaded in {(time.perf_counter() - started) * 1000:.0f} ms "
                  "(once, and again whenever the vocabulary grows)")
        floor = await time_floor(db, 200)
        print(f"floor (a transaction reading the search version, nothing else): p50 {statistics.median(floor):.2f} ms, "
              f"p99 {percentile(floor, 99):.2f} ms")
        met = report_speed(f"{label}, warm", await time_searches(db, search, rounds, random.Random(7)))
        for mode in ("cold", "name", "first"):
            timings = await time_searches(db, search, max(1, rounds // 8), random.Random(7), mode=mode, scale=scale)
            goal = COLD_GOAL_MS if scale.entries >= ENTRIES else COLD_GOAL_SMALL_MS
            met &= report_speed(f"{label}, {mode}", timings, goal if mode != "first" else float("inf"))
        return met
    finally:
        await db.dispose()


async def run_quality(url: str, synonyms: list[Any]) -> bool:
    db = Database(url)
    try:
        await db.upgrade()
        corpus = load_corpus()
        await load_labelled(db, corpus)
        print(f"\nlabelled corpus: {len(corpus['entries'])} entries of "
              f"{len({e['holder'] for e in corpus['entries']})} holders")
        return report_quality(await measure_quality(db, ExpertiseSearch(synonyms), corpus))
    finally:
        await db.dispose()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", action="store_true", help="also run on a fresh local PostgreSQL database")
    parser.add_argument("--rounds", type=int, default=40, help="timed passes over the query mix (34 queries each)")
    parser.add_argument("--entries", type=int, default=ENTRIES, help="entries to build (the goal is for 100,000)")
    args = parser.parse_args()
    synonyms = load_synonyms(Settings(_env_file=None).synonyms_file)
    scale = Scale.of(args.entries)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= await run_speed(f"sqlite+aiosqlite:///{tmp}/bench.db", "SQLite", args.rounds, synonyms, scale)
        if args.postgres:
            async with fresh_database() as url:
                ok &= await run_speed(url, "PostgreSQL", args.rounds, synonyms, scale)
        ok &= await run_quality(f"sqlite+aiosqlite:///{tmp}/quality.db", synonyms)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
