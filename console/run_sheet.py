"""Tonight's run sheet: one service's bookings by time, covers, tables, notes, allergies marked."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from console.shop import Booking, BookingStatus

# Words that say "allergy" without naming it, and the EU's fourteen allergens as hosts write
# them; whole words only.
_ALLERGY = re.compile(r"\b(allerg\w*|anaphyla\w*|epi-?pens?|intoleran\w*)\b", re.IGNORECASE)
_ALLERGENS = re.compile(
    r"\b(coeliac|celiac|gluten|wheat|nuts?|peanuts?|tree ?nuts?|almonds?|hazelnuts?|walnuts?|"
    r"cashews?|pistachios?|sesame|soy|soya|dairy|milk|lactose|eggs?|shellfish|crustaceans?|"
    r"prawns?|shrimps?|crab|lobster|molluscs?|mussels?|oysters?|fish|mustard|celery|lupin|"
    r"sulph?ites?|sulf?ites?)\b",
    re.IGNORECASE)
#: The bookings a run sheet lists: those still expected or already at their table.
EXPECTED = frozenset({BookingStatus.CONFIRMED, BookingStatus.SEATED})


@dataclass(frozen=True, slots=True)
class Service:
    """A part of the day the kitchen runs as one: lunch, dinner, or the whole day."""

    key: str
    label: str
    starts: time
    ends: time | None
    """None: until midnight."""

    def window(self, day: date, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
        """[start, end) of this service on ``day`` in ``tz`` (the console's zone by default)."""
        start = datetime.combine(day, self.starts).astimezone(tz) if tz is None else \
            datetime.combine(day, self.starts, tz)
        end_day, end_time = (day, self.ends) if self.ends else (day + timedelta(days=1), time())
        end = datetime.combine(end_day, end_time).astimezone(tz) if tz is None else \
            datetime.combine(end_day, end_time, tz)
        return start, end


SERVICES = (
    Service("dinner", "Dinner (from 16:00)", time(16), None),
    Service("lunch", "Lunch (until 16:00)", time(0), time(16)),
    Service("day", "All day", time(0), None),
)


def service_named(key: str) -> Service:
    return next(s for s in SERVICES if s.key == key)


def allergy_words(notes: str) -> tuple[str, ...] | None:
    """The allergens named in a booking's notes, each once in order ('nut', 'gluten'); ()
    when the notes speak of an allergy without naming one; None when they say nothing of it."""
    named = tuple(dict.fromkeys(m.group(0).lower() for m in _ALLERGENS.finditer(notes)))
    if named or _ALLERGY.search(notes):
        return named
    return None


@dataclass(frozen=True, slots=True)
class RunSheetLine:
    """One booking as the floor staff read it."""

    time: str
    guest: str
    phone: str
    covers: int
    table: str
    status: str
    notes: str
    allergies: tuple[str, ...] | None
    """The allergens its notes name (() for an allergy not named), None for none."""


@dataclass(frozen=True, slots=True)
class RunSheet:
    """One service of one day, ready to print."""

    title: str
    shop: str
    printed: str
    lines: tuple[RunSheetLine, ...]

    @property
    def covers(self) -> int:
        return sum(line.covers for line in self.lines)

    @property
    def with_allergies(self) -> int:
        return sum(1 for line in self.lines if line.allergies is not None)

    @property
    def summary(self) -> str:
        n = len(self.lines)
        parts = [f"{n} booking{'s' if n != 1 else ''}", f"{self.covers} covers"]
        if self.with_allergies:
            parts.append(f"{self.with_allergies} with allergies")
        return " · ".join(parts)


def build_run_sheet(bookings: Iterable[Booking], day: date, service: Service, *, shop: str,
                    now: datetime, tz: tzinfo | None = None) -> RunSheet:
    """The expected bookings of ``service`` on ``day``, by time then table then guest."""
    start, end = service.window(day, tz)
    chosen = sorted((b for b in bookings if b.status in EXPECTED and start <= b.start_at < end),
                    key=lambda b: (b.start_at, b.table_no or 0, b.customer_name.casefold(), b.id))
    lines = tuple(RunSheetLine(
        time=b.start_at.astimezone(tz).strftime("%H:%M"), guest=b.customer_name, phone=b.phone,
        covers=b.party_size, table=str(b.table_no) if b.table_no else "",
        status=b.status.label, notes=b.notes.strip(), allergies=allergy_words(b.notes))
        for b in chosen)
    name = service.label.split(" (")[0]
    return RunSheet(title=f"{name}, {day.strftime('%a %d %b %Y')}", shop=shop,
                    printed=now.astimezone(tz).strftime("%a %d %b %Y %H:%M"), lines=lines)


@cache
def _template() -> Template:
    env = Environment(loader=PackageLoader("console", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("run_sheet.html.j2")


def run_sheet_html(sheet: RunSheet) -> str:
    """The sheet as the HTML subset Qt's QTextDocument prints; outside text is escaped."""
    return _template().render(sheet=sheet)
