"""Pupil identifiers in a text: a BSN, a date of birth, a child's name in context, a family's address or phone.

The people in these groups talk about pupils all day, and about colleagues, schools and the CJG
just as much; so the check looks for *context*, not for names or numbers as such:

- bsn: a nine-digit number (dots, spaces allowed) that passes the 11-proof (python-stdnum's
  `stdnum.nl.bsn`), or any eight/nine-digit number called "BSN"/"burgerservicenummer". A valid BSN
  is refused outright.
- birthdate: a full date after "geboren", "geb.", "geboortedatum"; or a date at least two and at most
  twenty years back in a sentence about a pupil or child (a meeting or a deadline is never that old).
- name: a capitalised name tied to a child: after "leerling", "kind", "zoon", "dochter", "zusje",
  "kleuter", "pupil" (also "mijn leerling", "een leerling, Timo,"); before a class or an age
  ("Noor (groep 5)", "Lotte uit groep 3", "Lucas uit 5b", "Anouk, 11 jaar", "Owen (10)"); after a
  family member ("de moeder van Finn"). Not after an article or a school word ("De Regenboog
  (groep 1-2)"), nor a teacher ("juf Anna (groep 5)", "collega Sophie").
- address / phone: a Dutch street address, postcode or phone number in a sentence about a family
  (ouders, moeder, gezin, woont, thuisadres, …). A school's, the CJG's or one's own number is not.

Pure functions over the text, no I/O: cheap enough for every message (bench/pupil_data.py).
Considered and not used: `deduce` (Dutch de-identification of medical text, LGPL-3.0, with docdeid and
a 1.9 MB wheel of name lists); it marks every person and date, so colleagues, trainers and meeting
dates would all be warned about (figures in bench/README.md, section 7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from stdnum.nl import bsn as stdnum_bsn

BSN, BIRTHDATE, NAME, ADDRESS, PHONE = "bsn", "birthdate", "name", "address", "phone"
KINDS = (BSN, BIRTHDATE, NAME, ADDRESS, PHONE)

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")
UPPER = "A-ZÀ-ÖØ-Þ"
LOWER = "a-zß-öø-ÿ"
WORD = rf"[{UPPER}][{LOWER}]+(?:-[{UPPER}]?[{LOWER}]+)?"
PARTICLE = r"(?:van|de|der|den|het|ter|ten|te|la|le|du|da|von|'t)"
INITIALS = rf"(?:[{UPPER}]\.\s?){{1,3}}"
# "Sem", "Sem de Vries", "Mohammed El Amrani", "S. de Vries", "T. Bakker"
NAME_RE = rf"(?:{INITIALS}(?:{PARTICLE}\s+)*{WORD}|{WORD}(?:\s+(?:{PARTICLE}\s+)*{WORD}){{0,2}})"
# words that start a sentence or a school's name, never a child's first name
NOT_NAMES = frozenset("""
de het een in op met en of die dat dit deze zij hij ze wij we ik jij je u is zijn was er hier daar
wie wat hoe waar wanneer waarom welke ook nog dan als maar want dus om voor na bij van uit tot aan
obs cbs rkbs pcbs ikc sbo so vso vo kc basisschool school kindcentrum locatie team groep klas
leerling leerlinge leerlingen leerkracht leerkrachten kinderen kind ouders scholen collega collega's
groepen klassen jongens meisjes kleuters consulent consulenten ib-er ib-ers directeur directeuren
bedankt dank graag hoi hallo beste idee pitch agendapunt casus vraag expertise training mijn onze
zijn haar hun alle veel geen elke iedere sinds tijdens volgende vorige dinsdag maandag woensdag
donderdag vrijdag zaterdag zondag januari februari maart april mei juni juli augustus september
oktober november december cjg swv ggd juvat gemeente nederland nederlands engels arabisch turks
""".split())
# words before a name that make it an adult or an organisation: "juf Anna (groep 5)", "De Regenboog"
ADULT_OR_PLACE = frozenset("""
de het een obs cbs rkbs pcbs ikc basisschool school kindcentrum collega juf meester leerkracht
mevrouw meneer mw dhr ib-er directeur consulent trainer orthopedagoog
""".split())

CHILD = r"(?:leerlinge?|pupil|kleuter|peuter|scholier|kind|zoon(?:tje)?|dochter(?:tje)?|broer(?:tje)?|zus(?:je)?" \
        r"|jongen|meisje|pleegkind)"
FAMILY = r"(?:moeder|vader|ouders?|oma|opa|gezin|voogd|pleegouders?|pleegmoeder|pleegvader|mama|papa|stiefvader" \
         r"|stiefmoeder|zus|broer)"
CLASS = r"(?:groep|gr\.|klas|leerjaar)\s*\d(?:\s*(?:-|/|en)\s*\d)?[a-z]?\b|\b\d[a-z]\b(?!\s*(?:fte|uur|keer))"

NAME_PATTERNS = [re.compile(p) for p in (
    # leerling Sem de Vries, mijn leerling Daan, zijn zoon Milan, een leerling, Timo, het kind Sara Ahmadi
    rf"(?i:\b{CHILD}\b)\s*(?:[,:(]\s*|\s+(?i:als|zoals|genaamd|met\s+de\s+naam)\s+)?(?P<name>{NAME_RE})",
    # Noor (groep 5), Lotte uit groep 3, Lucas uit 5b, Jayden? Groep 7, Nina Vermeulen, groep 8
    rf"(?P<name>{NAME_RE})(?:\s+(?i:en)\s+{WORD})?\s*(?:[(,?:]\s*|\s+(?i:uit|in|zit\s+in)\s+(?:(?i:de)\s+)?)"
    rf"(?i:{CLASS})",
    # Ravi? Hij zit in groep 6
    rf"(?P<name>{NAME_RE})\s*[?.!,]\s*(?i:hij|zij|ze)\s+(?i:zit|zat)\s+(?i:in)\s+(?i:groep|klas)",
    # Sophie uit mijn klas, Joep uit mijn groep
    rf"(?P<name>{NAME_RE})\s+(?i:uit|in|van)\s+(?i:mijn|onze)\s+(?i:klas|groep)",
    # Yara (8 jaar), Owen (10), Anouk, 11 jaar
    rf"(?P<name>{NAME_RE})\s*(?:\(\s*(?:1?\d)(?:\s*(?i:jaar|jr\.?))?\s*\)|,\s*(?:1?\d)\s*(?i:jaar|jr\b))",
    # de moeder van Finn, het gezin van Sem, de oma van Stijn
    rf"(?i:\b{FAMILY})\s+(?i:van)\s+(?P<name>{NAME_RE})",
    # een time-timer voor Ayoub en andere leerlingen
    rf"(?P<name>{NAME_RE})\s+(?i:en\s+(?:andere|twee|drie|een\s+paar)\s+(?:andere\s+)?(?:leerlingen|kinderen))",
)]

DATE_NUMERIC = re.compile(r"(?<![\d/.-])(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?![\d/-]|\.\d)")
DATE_WORDS = re.compile(rf"(?i)\b(\d{{1,2}})\s+({'|'.join(MONTHS)})\s+(\d{{4}})\b")
BIRTH_WORD = re.compile(r"(?i)\b(?:geboren|geb\b\.?|geboortedatum|geb\.?\s*datum|geboorte|jarig)")
CHILD_CONTEXT = re.compile(rf"(?i)\b(?:{CHILD}|leerlingen|kinderen|groep\s*\d|klas)\b")
FAMILY_CONTEXT = re.compile(
    rf"(?i)\b(?:{FAMILY}|woont|wonen|verhuisd|thuisadres|thuis|{CHILD}|adres\s+van\s+de\s+(?:ouders|leerling))\b")

# one's own number, given to the reader: "bel me gerust op 06-…", "mijn nummer: 06-…", "ik ben bereikbaar op …"
OWN_PHONE = re.compile(r"(?i)\b(?:bel(?:\s+(?:me|mij))?(?:\s+gerust)?(?:\s+op)?|mijn\s+(?:telefoon)?nummer(?:\s+is)?:?"
                       r"|ik\s+ben\s+(?:telefonisch\s+)?bereikbaar\s+(?:op|via))\s*$")
PHONE_RE = re.compile(r"(?<![\d+])(?:\+31|0031|0)(?:[\s-]?\(0\))?[\s-]?(?:\d[\s-]?){8}\d(?![\d])")
STREET_RE = re.compile(
    rf"\b[{UPPER}][{LOWER}]*(?:straat|laan|weg|plein|gracht|kade|singel|dijk|hof|pad|dreef|steeg|park|veld|erf"
    rf"|baan|wal|markt|hoven|plantsoen|ring|zijde|lei)\s+\d{{1,4}}\s?[a-zA-Z]?\b")
POSTCODE_RE = re.compile(r"\b[1-9]\d{3}\s?[A-Z]{2}\b")
NUMBER_RE = re.compile(r"(?<![\d€.,])\d(?:[ .-]?\d){7,10}(?!\d|[.,]\d)")
BSN_WORD = re.compile(r"(?i)\b(?:bsn|burgerservicenummer|sofinummer)\b")
SENTENCE = re.compile(r"(?<=[.!?;])\s+(?=[A-Z])|\n+")


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Screened:
    findings: tuple[Finding, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.findings)

    @property
    def refused(self) -> bool:
        """A valid BSN is never stored or posted, whatever the author chooses."""
        return any(f.kind == BSN for f in self.findings)

    @property
    def kinds(self) -> tuple[str, ...]:
        found = {f.kind for f in self.findings}
        return tuple(k for k in KINDS if k in found)


def screen(text: str, today: date) -> Screened:
    """Every pupil identifier in `text`; empty for ordinary talk.

    Names are looked for in the whole text ("Ravi? Hij zit in groep 6" spans two sentences); a date,
    an address or a phone number counts in a sentence about a child or a family."""
    found = names(text)
    offset, previous = 0, ""
    for sentence in SENTENCE.split(text):
        start = text.find(sentence, offset)
        offset = start + len(sentence)
        named = any(start - len(previous) - 1 <= f.start < offset for f in found)
        found += [Finding(f.kind, f.start + start, f.end + start)
                  for f in _sentence(sentence, previous, today, named)]
        previous = sentence
    found += _bsn(text)
    return Screened(tuple(dict.fromkeys(found)))


def _sentence(text: str, previous: str, today: date, named: bool) -> list[Finding]:
    """Dates, addresses and phone numbers in one sentence, with the sentence before it as context
    ("Wie kan de moeder van Ilse bellen? 06-98765432.")."""
    found: list[Finding] = []
    context = f"{previous} {text}"
    child = named or bool(CHILD_CONTEXT.search(context))
    birth_word = BIRTH_WORD.search(text)
    for match, year in _dates(text):
        said = birth_word is not None and birth_word.start() < match.start() and match.start() - birth_word.end() < 40
        if said or (child and today.year - 20 <= year <= today.year - 2):
            found.append(Finding(BIRTHDATE, match.start(), match.end()))
    if named or FAMILY_CONTEXT.search(context):
        found += [Finding(PHONE, m.start(), m.end()) for m in PHONE_RE.finditer(text)
                  if not OWN_PHONE.search(text[max(0, m.start() - 40):m.start()])]
        found += [Finding(ADDRESS, m.start(), m.end()) for m in STREET_RE.finditer(text)]
        found += [Finding(ADDRESS, m.start(), m.end()) for m in POSTCODE_RE.finditer(text)]
    return found


def names(text: str) -> list[Finding]:
    """Children's names in `text`: each pattern's name, less the sentence words it swallowed ("Voor Milou")."""
    found: list[Finding] = []
    for pattern in NAME_PATTERNS:
        for match in pattern.finditer(text):
            if (start := _child_name_start(text, match.start("name"), match.end("name"))) is not None:
                found.append(Finding(NAME, start, match.end("name")))
    return found


def _child_name_start(text: str, start: int, end: int) -> int | None:
    """Where the child's name starts, past leading words that are no name; None when it is no child's name."""
    for word in re.finditer(r"\S+", text[start:end]):
        folded = word.group().rstrip(".").lower()
        if folded in ADULT_OR_PLACE:  # "Juf Noor (groep 5)", "De Regenboog (groep 1-2)"
            return None
        if folded not in NOT_NAMES:
            start += word.start()
            break
    else:
        return None
    before = text[:start].split()
    return start if not before or before[-1].strip("(,:").lower() not in ADULT_OR_PLACE else None


def _dates(text: str) -> list[tuple[re.Match[str], int]]:
    found: list[tuple[re.Match[str], int]] = []
    for match in DATE_NUMERIC.finditer(text):
        day, month, year = (int(g) for g in match.groups())
        if 1 <= day <= 31 and 1 <= month <= 12:
            found.append((match, year))
    found += [(m, int(m.group(3))) for m in DATE_WORDS.finditer(text)]
    return found


def _bsn(text: str) -> list[Finding]:
    found: list[Finding] = []
    for match in NUMBER_RE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        valid = len(digits) == 9 and stdnum_bsn.is_valid(digits)
        word = BSN_WORD.search(text[max(0, match.start() - 30):match.start()])
        if valid or (len(digits) in (8, 9) and word is not None):  # a number called BSN is one too
            found.append(Finding(BSN, match.start(), match.end()))
    return found
