"""`/expertise …` text to a request. Every way to type it wrong ends in a Dutch UserError."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.core.errors import UserError
from config.i18n import Catalog
from handlers.expertise.analysis import topic_key, words
from handlers.text import clean

MAX_TOPIC = 60
MAX_TOPICS = 10
SEPARATORS = re.compile(r"\s*(?:[,;\n]|\s+en\s+)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Overview:
    pass


@dataclass(frozen=True)
class Search:
    query: str


@dataclass(frozen=True)
class AddForm:
    pass


@dataclass(frozen=True)
class Add:
    topics: tuple[str, ...]
    holder_name: str = ""  # coordinators: for whom


@dataclass(frozen=True)
class Mine:
    pass


@dataclass(frozen=True)
class Remove:
    topic: str
    holder_name: str = ""


Request = Overview | Search | AddForm | Add | Mine | Remove


def parse_topics(text: str, t: Catalog) -> tuple[str, ...]:
    """"gedrag, dyslexie en rekenen" → ("gedrag", "dyslexie", "rekenen"), duplicates dropped."""
    topics: dict[str, str] = {}
    for raw in SEPARATORS.split(text):
        topic = " ".join(raw.strip().lstrip("#").split())
        if not topic:
            continue
        if len(topic) > MAX_TOPIC:
            raise UserError(t("expertise.topic_too_long", topic=topic[:MAX_TOPIC], max=MAX_TOPIC))
        if not words(topic):
            raise UserError(t("expertise.topic_meaningless", topic=topic))
        topics.setdefault(topic_key(topic), topic)
    if not topics:
        raise UserError(t("expertise.no_topics"))
    if len(topics) > MAX_TOPICS:
        raise UserError(t("expertise.too_many_topics", max=MAX_TOPICS))
    return tuple(topics.values())


def _split_for(rest: str, t: Catalog) -> tuple[str, str]:
    """"voor CJG Alkmaar: gedrag" → ("CJG Alkmaar", "gedrag")."""
    if not re.match(r"voor\b", rest, re.IGNORECASE):
        return "", rest
    name, colon, after = rest[4:].partition(":")
    if not colon or not name.strip():
        raise UserError(t("expertise.for_syntax"))
    return " ".join(name.split()), after.strip()


@lru_cache(maxsize=1024)  # the same question asked again is read once (issue 19, the ack's time)
def parse(text: str, t: Catalog) -> Request:
    text = clean(text, t, what=t("expertise.what_command"), required=False)
    if not text:
        return Overview()
    word, _, rest = text.partition(" ")
    keyword = word.lower()
    rest = rest.strip()
    if keyword == "toevoegen":
        if not rest:
            return AddForm()
        holder, rest = _split_for(rest, t)
        return Add(parse_topics(rest, t), holder)
    if keyword == "mijn" and not rest:
        return Mine()
    if keyword == "verwijderen":
        holder, rest = _split_for(rest, t)
        topics = parse_topics(rest, t) if rest else ()
        if len(topics) != 1:
            raise UserError(t("expertise.remove_syntax"))
        return Remove(topics[0], holder)
    if not words(text):
        raise UserError(t("expertise.query_meaningless", query=text))
    return Search(text)


def asks(text: str, t: Catalog) -> bool:
    """A search or the overview of topics: their answers need nothing of who asks but their rights and which
    entries are their own (a person who is no member yet holds none), so they are answered to a newcomer
    before the platform names them (bot/core/registry.py `Question`)."""
    return isinstance(parse(text, t), Search | Overview)
