"""A demo network for `netwerkbot console --demo`, drawn from the cooperation's own documents.

The schools are those of the Alkmaar-Noord work area that attended the trimester meeting of
3 February 2022; the themes (thuiszitters, groeiklas, gedrag, Wegwijs in gedrag, inclusie) are
the ones the network group named. The people are invented. Loading twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.core.clock import Clock
from handlers.expertise.analysis import index_terms, topic_key
from handlers.text import fold
from storage.db import Database

WERKGEBIED = "Alkmaar-Noord"

ORGANISATIONS = [
    ("Baeken", "school"), ("Burijn", "school"), ("Cilinder", "school"), ("Lierenland", "school"),
    ("Vlieger", "school"), ("Lispeltuut", "school"), ("Durv!", "school"), ("Sterrenwachter", "school"),
    ("Zandloper", "school"), ("Vronermeerschool", "school"), ("Montessori Alkmaar", "school"),
    ("Erasmus", "school"), ("SBO De Vlindertuin", "sbo"), ("CJG Alkmaar", "organisatie"),
    ("PPO-NK", "swv"),
]


@dataclass(frozen=True)
class DemoMember:
    slug: str  # the console user id
    name: str
    role: str
    organisation: str
    coordinator: bool = False


MEMBERS = [
    DemoMember("marieke", "Marieke Bakker", "consulent", "PPO-NK", coordinator=True),
    DemoMember("youssef", "Youssef el Amrani", "consulent", "PPO-NK"),
    DemoMember("ingrid", "Ingrid Smit", "ib-er", "Baeken"),
    DemoMember("thomas", "Thomas de Wit", "directeur", "Vlieger"),
    DemoMember("fatima", "Fatima Bouzid", "ib-er", "Sterrenwachter"),
    DemoMember("joost", "Joost Visser", "leerkracht", "Lierenland"),
    DemoMember("sanne", "Sanne Mulder", "ib-er", "Zandloper"),
    DemoMember("pieter", "Pieter Jansen", "directeur", "Lispeltuut"),
    DemoMember("els", "Els van Dijk", "expert", "SBO De Vlindertuin"),
    DemoMember("marlinda", "Marlinda Koster", "jeugdwerker", "CJG Alkmaar"),
    DemoMember("sandra", "Sandra Hoekstra", "jeugdwerker", "CJG Alkmaar"),
    DemoMember("ruben", "Ruben Kok", "leerkracht", "Durv!"),
]

# (holder: member slug or organisation name, topic, description, months since last confirmed)
EXPERTISE = [
    ("marieke", "gedrag", "Trainer Wegwijs in gedrag; meervoudig perspectief bij gedragsvragen in de klas.", 2),
    ("marieke", "thuiszitters", "Casusregie bij dreigend thuiszitten, samen met leerplicht en CJG.", 3),
    ("youssef", "hoogbegaafdheid", "Opzet plusklas en begeleiding van meerbegaafde leerlingen.", 4),
    ("youssef", "groeiklas", "Doelgroepbepaling en evaluatie van de groeiklas in Alkmaar-Noord.", 1),
    ("ingrid", "gedragsproblemen", "Handelingsgericht werken bij gedragsproblemen in groep 5-8.", 6),
    ("ingrid", "dyslexie", "Dyslexieprotocol, vergoede zorg en leesbegeleiding.", 14),
    ("fatima", "gedragsspecialist", "Gedragsspecialist (master SEN), observaties en handelingsadviezen.", 2),
    ("fatima", "faalangst", "Faalangstreductietraining voor groep 6-8.", 9),
    ("joost", "rekenen", "Rekenspecialist; dyscalculie en rekenproblemen.", 5),
    ("sanne", "autisme", "Leerlingen met ASS in de reguliere klas; prikkelarme werkplekken.", 7),
    ("sanne", "gedrag", "Wegwijs in gedrag gevolgd; intervisie over gedragsvragen.", 20),
    ("thomas", "inclusie", "Inclusief onderwijs in de wijk; samenwerking met SBO.", 3),
    ("pieter", "nt2", "Onderwijs aan nieuwkomers en taalachterstand.", 8),
    ("els", "gedrag", "Coaching vanuit het SBO naar basisscholen bij gedragsvragen.", 1),
    ("els", "speciaal basisonderwijs", "Arrangementen en terugplaatsing naar het basisonderwijs.", 1),
    ("marlinda", "jeugdhulp", "Schoolmaatschappelijk werk en jeugdhulp dichtbij school.", 2),
    ("sandra", "thuiszitters", "Verzuim en schoolweigering; gezinsgerichte aanpak.", 4),
    ("ruben", "adhd", "Concentratie en structuur in de klas, ervaring met ADHD.", 10),
    ("CJG Alkmaar", "thuiszitters", "Ondersteuning van gezinnen bij (dreigend) thuiszitten.", 2),
    ("CJG Alkmaar", "opvoedondersteuning", "Opvoedspreekuur op school en oudercursussen.", 5),
    ("SBO De Vlindertuin", "gedrag", "Observatieplaatsen en consultatie voor basisscholen.", 3),
]


def coordinator_ids() -> frozenset[str]:
    return frozenset(f"console:{m.slug}" for m in MEMBERS if m.coordinator)


async def load(db: Database, clock: Clock) -> None:
    now = clock.now()
    async with db.transaction() as repos:
        organisations = {}
        for name, kind in ORGANISATIONS:
            record, _ = await repos.organisations.upsert(name=name, name_key=fold(name), kind=kind,
                                                         werkgebied=WERKGEBIED, now=now)
            organisations[name] = record
        members = {}
        for demo in MEMBERS:
            member = await repos.members.by_identity("console", demo.slug)
            if member is None:
                member_id = await repos.members.create(name=demo.name, role=demo.role, now=now,
                                                       organisation_id=organisations[demo.organisation].id)
                await repos.members.link(member_id, "console", demo.slug)
                member = await repos.members.by_identity("console", demo.slug)
            assert member is not None
            members[demo.slug] = member
        for holder_name, topic, description, months in EXPERTISE:
            holder = members.get(holder_name) or organisations[holder_name]
            if any(e.topic_key == topic_key(topic) for e in await repos.expertise.of_holder(holder)):
                continue
            await repos.expertise.save(holder=holder, topic=topic, topic_key=topic_key(topic),
                                       description=description, terms=index_terms(topic, description),
                                       now=now - timedelta(days=30 * months))
