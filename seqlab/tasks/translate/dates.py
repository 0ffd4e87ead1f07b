"""Human-readable dates to ISO 8601: the classic small exercise for attention, generated offline.

"Saturday the 9th of May 2018", "21th of August 2016", "03.05.79" -> "2018-05-09", "2016-08-21",
"1979-05-03". The output is a fixed-length string whose day, month and year each come from one
place in the input, so a trained model's attention map shows them aligning.

Conventions (each generated date reads back to exactly one ISO date under them):

- **Formats** (:data:`DATE_FORMATS`) are templates in the fields of :func:`date_fields`. Two of
  them are deliberately sloppy: ``{dth}`` writes every day with "th" ("21th", "2th"), as people
  do; ``{dord}`` writes correct ordinals ("21st", "2nd", "11th").
- **Numbers with dots are day.month.year** ("3.5.1979" is 3 May), as everywhere dots are used
  (Germany, Russia, ...). Slashed day/month forms are left out: "03/05/1979" is 3 May in Britain
  and March 5 in the United States, and no convention stated here would make the data honest. The
  only slashed form is year first ("1979/05/03"), which no one reads differently.
- **Two-digit years follow POSIX ``strptime``'s pivot** (Python's ``%y`` too): 69-99 are
  1969-1999 and 00-68 are 2000-2068. Only dates in 1969-2068 are written with two digits, so
  "5 April 09" is 2009 and "1 Jan 70" is 1970.
- **Weekdays agree with the date**; names are English, from tables here, never from the locale.
- **Case does not matter.** Each example is written in one of :data:`CASINGS`, and the model is
  meant to read :func:`model_input` of it, which is lower-cased: since case carries no information
  in this task, lower-casing loses nothing and maps any casing, even "sATurDAY" that the generator
  never writes, to an input the model has seen. :func:`source_characters` gives both inventories.

Splits hold different *dates*, not only different strings: every date of the range is used at most
once, so a held-out date was never seen in training in any format. The data depend only on the
seed and the arguments, on every platform and Python version: the only randomness drawn is
:meth:`random.Random.random`, the one method whose sequence Python promises not to change.
"""

from __future__ import annotations

import datetime
import functools
import random
import re
import string
from dataclasses import dataclass
from typing import NamedTuple

from seqlab.errors import SeqlabError

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # date.weekday() order

# Each template, with an example of 9 May 2018 (or 21 August 2016 where the ordinal shows more).
DATE_FORMATS = (
    "{d} {month} {yyyy}",  # 9 May 2018
    "{dd} {month} {yyyy}",  # 09 May 2018
    "{d} {month} {yy}",  # 9 May 18
    "{d} {mon} {yyyy}",  # 9 May 2018, 21 Aug 2016
    "{dth} of {month} {yyyy}",  # 21th of August 2016 (sloppy on purpose)
    "{dord} of {month} {yyyy}",  # 21st of August 2016
    "the {dord} of {month} {yyyy}",  # the 21st of August 2016
    "{wkd} {d} {mon} {yyyy}",  # Wed 9 May 2018
    "{weekday} {month} {d} {yyyy}",  # Wednesday May 9 2018
    "{weekday}, {month} {d}, {yyyy}",  # Wednesday, May 9, 2018
    "{weekday} the {dord} of {month} {yyyy}",  # Wednesday the 9th of May 2018
    "{wkd} {mon} {dd} {yyyy}",  # Wed May 09 2018 (JavaScript's Date.toDateString)
    "{month} {d} {yyyy}",  # May 9 2018
    "{month} {d}, {yyyy}",  # May 9, 2018
    "{month} {dord}, {yyyy}",  # May 9th, 2018
    "{mon} {d}, {yy}",  # Aug 21, 16
    "{dd}-{mon}-{yy}",  # 21-Aug-16 (Oracle's DD-MON-YY)
    "{dd}-{mon}-{yyyy}",  # 21-Aug-2016
    "{d}.{m}.{yyyy}",  # 9.5.2018 (day first, see the module notes)
    "{dd}.{mm}.{yyyy}",  # 09.05.2018
    "{dd}.{mm}.{yy}",  # 09.05.18
    "{yyyy}/{mm}/{dd}",  # 2018/05/09
)
CASINGS = ("as written", "lower", "upper", "title")
TARGET_CHARACTERS = "-0123456789"  # every ISO date is made of these
TWO_DIGIT_YEARS = (1969, 2068)  # the years a two-digit year can name, POSIX strptime's pivot
DEFAULT_RANGE = (datetime.date(1900, 1, 1), datetime.date(2099, 12, 31))


class DateExample(NamedTuple):
    """One human-readable date and its ISO form.

    Attributes:
        source: the date as a person writes it, in ``casing``.
        target: ``YYYY-MM-DD``.
        format: the template of :data:`DATE_FORMATS` it was written in, for accuracy per format.
        casing: one of :data:`CASINGS`.
    """

    source: str
    target: str
    format: str
    casing: str


@dataclass(frozen=True)
class DateSplits:
    """Training, validation and test examples; no date is in more than one of them."""

    train: list[DateExample]
    valid: list[DateExample]
    test: list[DateExample]

    def pairs(self, split: str) -> list[tuple[str, str]]:
        """The ``(source, target)`` pairs of ``"train"``, ``"valid"`` or ``"test"``."""
        return [(example.source, example.target) for example in getattr(self, split)]


def ordinal(day: int) -> str:
    """``day`` as an English ordinal: 1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st, 22nd."""
    if day % 100 in (11, 12, 13):
        return f"{day}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def date_fields(day: datetime.date) -> dict[str, str]:
    """The values that :data:`DATE_FORMATS` templates name, for one date.

    Returns:
        ``d`` (9), ``dd`` (09), ``dth`` (9th, 21th: always "th"), ``dord`` (9th, 21st), ``m`` (5),
        ``mm`` (05), ``month`` (May), ``mon`` (the first three letters), ``yyyy`` (2018), ``yy`` (18),
        ``weekday`` (Wednesday) and ``wkd`` (Wed).
    """
    month = MONTHS[day.month - 1]
    weekday = WEEKDAYS[day.weekday()]
    return {
        "d": str(day.day),
        "dd": f"{day.day:02d}",
        "dth": f"{day.day}th",
        "dord": ordinal(day.day),
        "m": str(day.month),
        "mm": f"{day.month:02d}",
        "month": month,
        "mon": month[:3],
        "yyyy": f"{day.year:04d}",
        "yy": f"{day.year % 100:02d}",
        "weekday": weekday,
        "wkd": weekday[:3],
    }


@functools.lru_cache(maxsize=1024)
def template_fields(template: str) -> frozenset[str]:
    """The field names a template uses (``"{d} {month}"`` -> ``{"d", "month"}``)."""
    return frozenset(field for _, field, _, _ in string.Formatter().parse(template) if field is not None)


def can_write(day: datetime.date, template: str) -> bool:
    """Whether ``template`` writes ``day`` so that it reads back as that date (two-digit years)."""
    return "yy" not in template_fields(template) or TWO_DIGIT_YEARS[0] <= day.year <= TWO_DIGIT_YEARS[1]


def apply_casing(text: str, casing: str) -> str:
    """``text`` in one of :data:`CASINGS`: unchanged, lower, upper, or each word capitalised."""
    if casing == "as written":
        return text
    if casing == "lower":
        return text.lower()
    if casing == "upper":
        return text.upper()
    if casing == "title":  # each word's first letter; not str.title(), which writes "21St"
        return re.sub(r"(?<![a-z0-9])[a-z]", lambda match: match[0].upper(), text.lower())
    raise SeqlabError(f"unknown casing {casing!r}: expected one of {', '.join(CASINGS)}")


def format_date(day: datetime.date, template: str, *, casing: str = "as written") -> str:
    """``day`` written in ``template`` (one of :data:`DATE_FORMATS`, or any in the same fields).

    Example:
        >>> format_date(datetime.date(2016, 8, 21), "{weekday} the {dord} of {month} {yyyy}")
        'Sunday the 21st of August 2016'
        >>> format_date(datetime.date(2009, 4, 5), "{d} {month} {yy}", casing="upper")
        '5 APRIL 09'
    """
    if not can_write(day, template):
        raise SeqlabError(f"{day.isoformat()}: a two-digit year names only {TWO_DIGIT_YEARS[0]}-{TWO_DIGIT_YEARS[1]}")
    return apply_casing(template.format(**date_fields(day)), casing)


def model_input(source: str) -> str:
    """What the model reads of a human-readable date: the text lower-cased (case carries nothing here)."""
    return source.lower()


def source_characters(*, lowercase: bool = True, formats: tuple[str, ...] = DATE_FORMATS) -> str:
    """Every character a source written in ``formats`` can contain, sorted by code point.

    Worked out from the templates and the name tables, not from a sample, so it holds for any seed.

    Args:
        lowercase: the inventory of :func:`model_input` (lower-cased sources); ``False`` includes
            the capitals that :data:`CASINGS` produce.
        formats: the templates.
    """
    values = "0123456789stndrdth" + "".join(MONTHS) + "".join(WEEKDAYS)
    literals = "".join(text for template in formats for text, *_ in string.Formatter().parse(template))
    lower = {char.lower() for char in values + literals}
    if lowercase:
        return "".join(sorted(lower))
    return "".join(sorted(lower | {char.upper() for char in lower}))


def _index_below(rng: random.Random, n: int) -> int:
    """A uniform index in ``[0, n)`` from :meth:`random.Random.random` alone (stable across Python versions)."""
    return min(int(rng.random() * n), n - 1)


def _sample_dates(rng: random.Random, start: datetime.date, end: datetime.date, count: int) -> list[datetime.date]:
    """``count`` different dates of ``[start, end]`` in random order (a partial Fisher-Yates shuffle)."""
    days = list(range(start.toordinal(), end.toordinal() + 1))
    for i in range(count):
        j = i + _index_below(rng, len(days) - i)
        days[i], days[j] = days[j], days[i]
    return [datetime.date.fromordinal(day) for day in days[:count]]


def _example(rng: random.Random, day: datetime.date, usable: list[str]) -> DateExample:
    """One example of ``day`` in a random one of the ``usable`` templates and a random casing."""
    template = usable[_index_below(rng, len(usable))]
    casing = CASINGS[_index_below(rng, len(CASINGS))]
    source = apply_casing(template.format(**date_fields(day)), casing)
    return DateExample(source, day.isoformat(), template, casing)


def _check_arguments(sizes: dict[str, int], start: datetime.date, end: datetime.date, formats: tuple[str, ...]) -> int:
    """The number of examples asked for, once the arguments of :func:`generate_date_splits` are checked."""
    for name, size in sizes.items():
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise SeqlabError(f"{name} must be a whole number >= 0, got {size!r}")
    if end < start:
        raise SeqlabError(f"date range is reversed: start {start.isoformat()} is after end {end.isoformat()}")
    known = set(date_fields(start))
    unknown = sorted({field for template in formats for field in template_fields(template)} - known)
    if not formats or unknown:
        raise SeqlabError(f"formats must be templates in the fields {', '.join(sorted(known))}; unknown: {unknown}")
    total, available = sum(sizes.values()), end.toordinal() - start.toordinal() + 1
    if total > available:
        raise SeqlabError(
            f"{total:,} examples need as many different dates, but {start.isoformat()}..{end.isoformat()} "
            f"has {available:,} days"
        )
    return total


def generate_date_splits(
    seed: int = 0,
    *,
    train_size: int = 20_000,
    valid_size: int = 1_000,
    test_size: int = 1_000,
    start: datetime.date = DEFAULT_RANGE[0],
    end: datetime.date = DEFAULT_RANGE[1],
    formats: tuple[str, ...] = DATE_FORMATS,
) -> DateSplits:
    """Training, validation and test examples of distinct random dates, each in a random format and casing.

    Args:
        seed: the data are a function of the seed and the other arguments, on every platform.
        train_size: number of training examples.
        valid_size: number of validation examples.
        test_size: number of test examples.
        start: the earliest date, inclusive.
        end: the latest date, inclusive.
        formats: templates to choose from, uniformly among those that can write the date
            (:func:`can_write`); by default all of :data:`DATE_FORMATS`.

    Returns:
        The splits; together they hold ``train_size + valid_size + test_size`` different dates.

    Raises:
        SeqlabError: a negative size, a reversed range, more examples than the range has
            days, an unknown template field, or a date no format can write.

    Example:
        >>> splits = generate_date_splits(7, train_size=3, valid_size=1, test_size=1)
        >>> [len(splits.train), len(splits.valid), len(splits.test)]
        [3, 1, 1]
        >>> source, target = splits.pairs("test")[0]
        >>> target == generate_date_splits(7, train_size=3, valid_size=1, test_size=1).test[0].target
        True
    """
    total = _check_arguments(
        {"train_size": train_size, "valid_size": valid_size, "test_size": test_size}, start, end, formats
    )
    # The templates that can write a date depend only on whether its year has a two-digit form.
    usable = {
        two_digit: [template for template in formats if two_digit or "yy" not in template_fields(template)]
        for two_digit in (False, True)
    }
    rng = random.Random(seed)
    examples = []
    for day in _sample_dates(rng, start, end, total):
        two_digit = TWO_DIGIT_YEARS[0] <= day.year <= TWO_DIGIT_YEARS[1]
        if not usable[two_digit]:
            raise SeqlabError(f"{day.isoformat()}: none of the formats can write this date (all use two-digit years)")
        examples.append(_example(rng, day, usable[two_digit]))
    return DateSplits(
        train=examples[:train_size],
        valid=examples[train_size : train_size + valid_size],
        test=examples[train_size + valid_size :],
    )
