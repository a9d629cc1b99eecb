"""`/expertise …` text to a request: whatever anyone types, a request or a Dutch explanation.

Property tests (hypothesis) for the rules that must hold for every input, and examples for each
subcommand.
"""

from __future__ import annotations

import re
import string
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.core.errors import UserError
from config.i18n import Catalog, load_messages
from handlers.expertise.analysis import STOPWORDS, topic_key, words
from handlers.expertise.parser import (
    MAX_TOPIC,
    MAX_TOPICS,
    Add,
    AddForm,
    Mine,
    Overview,
    Remove,
    Request,
    Search,
    parse,
    parse_topics,
)
from handlers.text import MAX_TEXT

T = Catalog("nl")
PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pattern(template: str) -> re.Pattern[str]:
    """A message template as a regex: its placeholders match anything."""
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(".*")
    return re.compile("".join(parts), re.DOTALL)


DUTCH = [_pattern(m) for key, m in load_messages("nl").items() if key.startswith(("input.", "expertise."))]


def is_dutch_explanation(message: str) -> bool:
    """One of the catalogue's Dutch messages, filled in: not empty, not an English fallback."""
    return bool(message.strip()) and any(p.fullmatch(message) for p in DUTCH)


def parse_or_error(text: str) -> Request | UserError:
    try:
        return parse(text, T)
    except UserError as error:
        return error


# -- strategies -------------------------------------------------------------------------------------

LETTERS = string.ascii_letters + "éëèïöüáàçÉËÏÖÜ"
word = st.text(LETTERS, min_size=2, max_size=12).filter(lambda w: w.lower() not in {"en", "voor"})
# A topic as people type one: one to three words, short, meaning something (not only stop words).
topic = (st.lists(word, min_size=1, max_size=3).map(" ".join)
         .filter(lambda t: len(t) <= MAX_TOPIC and bool(words(t))))
name = (st.lists(st.text(LETTERS + ".-'", min_size=1, max_size=10), min_size=1, max_size=3).map(" ".join)
        .filter(lambda n: ":" not in n and bool(n.strip("-.'"))))
MARKUP = ["<!channel>", "<!here>", "<@U123ABC>", "<#C0123|algemeen>", "<http://example.org|klik>",
          "<mailto:a@example.org>", "< !everyone>", "<tel:0612345678>"]
CONTROL = [chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]]
CONTROL += list("\u202a\u202b\u202c\u202d\u202e\u2066\u2069")  # text direction overrides
PREFIXES = ["", "toevoegen ", "verwijderen ", "mijn ", "toevoegen voor ", "verwijderen voor ", "TOEVOEGEN ",
            "toevoegen voor CJG Alkmaar: ", "zoek "]
any_text = st.one_of(
    st.text(),
    st.builds(str.__add__, st.sampled_from(PREFIXES), st.text()),
    st.builds(str.__add__, st.sampled_from(PREFIXES), st.text(LETTERS + " ,;:#\n", max_size=80)),
    st.text(min_size=MAX_TEXT - 5, max_size=MAX_TEXT + 50),
    st.builds(lambda a, m, b: a + m + b, st.text(max_size=30), st.sampled_from(MARKUP), st.text(max_size=30)),
)


# -- properties -------------------------------------------------------------------------------------

@PROPERTIES
@given(any_text)
def test_any_text_is_a_request_or_a_dutch_explanation(text: str) -> None:
    result = parse_or_error(text)  # any other exception fails the test
    if isinstance(result, UserError):
        assert is_dutch_explanation(result.message), result.message
        return
    assert isinstance(result, Overview | Search | AddForm | Add | Mine | Remove)
    if isinstance(result, Search):
        assert words(result.query) and result.query == " ".join(result.query.split())
    if isinstance(result, Add | Remove):
        topics = result.topics if isinstance(result, Add) else (result.topic,)
        assert 1 <= len(topics) <= MAX_TOPICS
        assert all(len(t) <= MAX_TOPIC and words(t) for t in topics)
        assert len({topic_key(t) for t in topics}) == len(topics)


@PROPERTIES
@given(st.lists(topic, min_size=1, max_size=MAX_TOPICS), st.data())
def test_topics_joined_by_commas_parse_back_to_the_same_topics(topics: list[str], data: st.DataObject) -> None:
    first: dict[str, str] = {}
    for t in topics:
        first.setdefault(topic_key(t), t)  # the first spelling of each topic is kept
    unique = list(first.values())
    repeated = topics + data.draw(st.lists(st.sampled_from(topics), max_size=3))  # say some twice
    parsed = parse_topics(", ".join(repeated), T)
    assert [topic_key(t) for t in parsed] == [topic_key(t) for t in unique]
    assert list(parsed) == unique
    if len(repeated) > 1:  # "a, b en c" means the same
        with_en = ", ".join(repeated[:-1]) + " en " + repeated[-1]
        assert parse_topics(with_en, T) == parsed


@PROPERTIES
@given(st.lists(topic, min_size=MAX_TOPICS + 1, max_size=MAX_TOPICS + 5))
def test_more_than_the_maximum_of_topics_is_refused(topics: list[str]) -> None:
    assume(len({topic_key(t) for t in topics}) > MAX_TOPICS)
    with pytest.raises(UserError) as refused:
        parse_topics(", ".join(topics), T)
    assert f"hooguit {MAX_TOPICS}" in refused.value.message


@PROPERTIES
@given(name, st.lists(topic, min_size=1, max_size=4), st.sampled_from(["toevoegen", "Toevoegen", "TOEVOEGEN"]),
       st.sampled_from(["voor", "Voor", "VOOR"]))
def test_adding_for_someone_names_the_holder(holder: str, topics: list[str], add: str, voor: str) -> None:
    request = parse(f"{add} {voor} {holder}: {', '.join(topics)}", T)
    assert isinstance(request, Add)
    assert request.holder_name == " ".join(holder.split())
    assert [topic_key(t) for t in request.topics] == list(dict.fromkeys(topic_key(t) for t in topics))
    removal = parse(f"verwijderen voor {holder}: {topics[0]}", T)
    assert removal == Remove(" ".join(topics[0].split()), " ".join(holder.split()))


@PROPERTIES
@given(st.text(max_size=40), st.sampled_from(MARKUP), st.text(max_size=40), st.sampled_from(PREFIXES))
def test_markup_is_always_refused(before: str, markup: str, after: str, prefix: str) -> None:
    with pytest.raises(UserError) as refused:
        parse(prefix + before + markup + after, T)
    assert is_dutch_explanation(refused.value.message)


@PROPERTIES
@given(st.text(max_size=40), st.sampled_from(CONTROL), st.text(max_size=40), st.sampled_from(PREFIXES))
def test_control_characters_inside_the_text_are_always_refused(before: str, control: str, after: str,
                                                               prefix: str) -> None:
    with pytest.raises(UserError) as refused:
        parse(f"{prefix}{before}x{control}y{after}", T)  # between letters, so not trimmed away
    assert is_dutch_explanation(refused.value.message)


@PROPERTIES
@given(st.text(LETTERS + " ,", min_size=MAX_TEXT + 1, max_size=MAX_TEXT * 3), st.sampled_from(PREFIXES))
def test_over_long_input_is_always_refused(text: str, prefix: str) -> None:
    assume(len(unicodedata.normalize("NFC", prefix + text).strip()) > MAX_TEXT)
    with pytest.raises(UserError) as refused:
        parse(prefix + text, T)
    assert "te lang" in refused.value.message and f"hooguit {MAX_TEXT}" in refused.value.message


@PROPERTIES
@given(st.lists(st.sampled_from(sorted(STOPWORDS)), min_size=1, max_size=4).map(" ".join),
       st.text("?!.-… ", max_size=5))
def test_a_search_for_nothing_but_stop_words_and_punctuation_is_explained(stop: str, punctuation: str) -> None:
    assume(stop.split()[0] not in {"toevoegen", "verwijderen", "mijn"})
    with pytest.raises(UserError) as refused:
        parse(stop + punctuation, T)
    assert "kan ik niet zoeken" in refused.value.message


# -- examples per subcommand ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("", Overview()),
    ("   ", Overview()),
    ("gedrag", Search("gedrag")),
    ("  Gedrag   in de  klas ", Search("Gedrag in de klas")),
    ("mijn", Mine()),
    ("MIJN", Mine()),
    ("mijn gedrag", Search("mijn gedrag")),
    ("toevoegen", AddForm()),
    ("toevoegen gedrag", Add(("gedrag",))),
    ("toevoegen gedrag, dyslexie en rekenen", Add(("gedrag", "dyslexie", "rekenen"))),
    ("toevoegen #gedrag; #dyslexie", Add(("gedrag", "dyslexie"))),
    ("toevoegen Gedrag, gedrag, GEDRAG", Add(("Gedrag",))),
    ("toevoegen ideeën, Ideeen", Add(("ideeën",))),
    ("toevoegen voor CJG Alkmaar: thuiszitters, gedrag", Add(("thuiszitters", "gedrag"), "CJG Alkmaar")),
    ("toevoegen voorschoolse educatie", Add(("voorschoolse educatie",))),
    ("verwijderen gedrag", Remove("gedrag")),
    ("verwijderen voor CJG Alkmaar: thuiszitters", Remove("thuiszitters", "CJG Alkmaar")),
])
def test_examples(text: str, expected: Request) -> None:
    assert parse(text, T) == expected


@pytest.mark.parametrize(("text", "explanation"), [
    ("verwijderen", "Noem één onderwerp om te verwijderen"),
    ("verwijderen gedrag, dyslexie", "Noem één onderwerp om te verwijderen"),
    ("toevoegen voor: gedrag", "Schrijf het zo: toevoegen voor <naam>:"),
    ("toevoegen voor CJG Alkmaar gedrag", "Schrijf het zo: toevoegen voor <naam>:"),
    ("toevoegen voor CJG Alkmaar:", "Noem minstens één onderwerp"),
    ("toevoegen ,,,", "Noem minstens één onderwerp"),
    ("toevoegen de, het", "\"de\" is geen onderwerp"),
    ("toevoegen " + "x" * (MAX_TOPIC + 1), f"te lang: hooguit {MAX_TOPIC} tekens"),
    ("???", "Met \"???\" kan ik niet zoeken"),
    ("gedrag <!channel>", "Slack-opmaak"),
    ("gedrag\u202eglah", "stuurtekens"),
    ("x" * (MAX_TEXT + 1), f"te lang: {MAX_TEXT + 1} tekens, hooguit {MAX_TEXT}"),
])
def test_mistakes_are_explained_in_dutch(text: str, explanation: str) -> None:
    with pytest.raises(UserError) as refused:
        parse(text, T)
    assert explanation in refused.value.message
    assert is_dutch_explanation(refused.value.message)
