"""The dates data set: every source reads back, by Python's own strptime, as exactly its ISO target.

The oracle is ``datetime.strptime`` with a format written out here for each template, plus rules
written out here (ordinal suffixes, weekday names, the two-digit-year pivot) rather than taken from
the module under test.
"""

from __future__ import annotations

import datetime
import doctest
import random
import re
from collections import Counter

import pytest

import seqlab.tasks.translate.dates
from seqlab.errors import SeqlabError
from seqlab.tasks.translate.dates import (
    CASINGS,
    DATE_FORMATS,
    TARGET_CHARACTERS,
    format_date,
    generate_date_splits,
    model_input,
    source_characters,
)

# Each template as strptime reads it. Ordinals ("21st", "2nd") are checked, then cut to the number,
# before strptime sees them; the sloppy "{dth}" keeps its literal "th". strptime ignores case.
STRPTIME = {
    "{d} {month} {yyyy}": "%d %B %Y",
    "{dd} {month} {yyyy}": "%d %B %Y",
    "{d} {month} {yy}": "%d %B %y",
    "{d} {mon} {yyyy}": "%d %b %Y",
    "{dth} of {month} {yyyy}": "%dth of %B %Y",
    "{dord} of {month} {yyyy}": "%d of %B %Y",
    "the {dord} of {month} {yyyy}": "the %d of %B %Y",
    "{wkd} {d} {mon} {yyyy}": "%a %d %b %Y",
    "{weekday} {month} {d} {yyyy}": "%A %B %d %Y",
    "{weekday}, {month} {d}, {yyyy}": "%A, %B %d, %Y",
    "{weekday} the {dord} of {month} {yyyy}": "%A the %d of %B %Y",
    "{wkd} {mon} {dd} {yyyy}": "%a %b %d %Y",
    "{month} {d} {yyyy}": "%B %d %Y",
    "{month} {d}, {yyyy}": "%B %d, %Y",
    "{month} {dord}, {yyyy}": "%B %d, %Y",
    "{mon} {d}, {yy}": "%b %d, %y",
    "{dd}-{mon}-{yy}": "%d-%b-%y",
    "{dd}-{mon}-{yyyy}": "%d-%b-%Y",
    "{d}.{m}.{yyyy}": "%d.%m.%Y",
    "{dd}.{mm}.{yyyy}": "%d.%m.%Y",
    "{dd}.{mm}.{yy}": "%d.%m.%y",
    "{yyyy}/{mm}/{dd}": "%Y/%m/%d",
}
ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}  # every other day: "th"
WEEKDAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ORDINAL = re.compile(r"\b(\d{1,2})(st|nd|rd|th)\b", re.IGNORECASE)


def short_year(two_digits: int) -> int:
    """The pivot stated for the data set (POSIX strptime's): 69-99 are 19xx, 00-68 are 20xx."""
    return 1900 + two_digits if two_digits >= 69 else 2000 + two_digits


def read_date(source: str, template: str) -> datetime.date:
    """The date ``source`` names, read by strptime with the format written above for ``template``."""
    if "{dord}" in template:
        (match,) = ORDINAL.finditer(source)
        day, suffix = int(match[1]), match[2].lower()
        assert suffix == ORDINAL_SUFFIX.get(day, "th"), source
        source = source[: match.start()] + match[1] + source[match.end() :]
    return datetime.datetime.strptime(source, STRPTIME[template]).date()


@pytest.fixture(scope="module")
def splits():
    return generate_date_splits(0)


def all_examples(splits):
    return splits.train + splits.valid + splits.test


def test_the_docstring_examples_run():
    result = doctest.testmod(seqlab.tasks.translate.dates, raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0


def test_there_are_at_least_a_dozen_formats_and_this_test_reads_each_one():
    assert len(DATE_FORMATS) >= 12 and len(set(DATE_FORMATS)) == len(DATE_FORMATS)
    assert set(DATE_FORMATS) == set(STRPTIME)


# --- every example is right --------------------------------------------------------------------------


def test_every_target_is_the_date_strptime_reads_in_its_source(splits):
    for example in all_examples(splits):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", example.target)
        assert read_date(example.source, example.format).isoformat() == example.target, example


def test_the_issues_examples_are_written_as_the_issue_writes_them():
    cases = [
        ("3 May 1979", "{d} {month} {yyyy}", "1979-05-03"),
        ("5 April 09", "{d} {month} {yy}", "2009-04-05"),
        ("21th of August 2016", "{dth} of {month} {yyyy}", "2016-08-21"),
        ("21st of August 2016", "{dord} of {month} {yyyy}", "2016-08-21"),
        ("Tue 10 Jul 2007", "{wkd} {d} {mon} {yyyy}", "2007-07-10"),
        ("Wednesday May 9 2018", "{weekday} {month} {d} {yyyy}", "2018-05-09"),  # the issue says Saturday: it was not
        ("March 3 2001", "{month} {d} {yyyy}", "2001-03-03"),
        ("1 March 2001", "{d} {month} {yyyy}", "2001-03-01"),
        ("May 3rd, 1979", "{month} {dord}, {yyyy}", "1979-05-03"),
        ("3.5.1979", "{d}.{m}.{yyyy}", "1979-05-03"),
    ]
    for text, template, iso in cases:
        assert format_date(datetime.date.fromisoformat(iso), template) == text


@pytest.mark.parametrize(
    ("day", "written"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"), (21, "21st")]
    + [(22, "22nd"), (23, "23rd"), (24, "24th"), (30, "30th"), (31, "31st")],
)
def test_ordinals_are_correct_in_dord_and_always_th_in_the_sloppy_dth(day, written):
    date = datetime.date(2016, 8, day)
    assert format_date(date, "{dord} of {month} {yyyy}") == f"{written} of August 2016"
    assert format_date(date, "{dth} of {month} {yyyy}") == f"{day}th of August 2016"


def test_weekday_names_agree_with_the_date(splits):
    with_weekday = 0
    for example in all_examples(splits):
        date = datetime.date.fromisoformat(example.target)
        first_word = example.source.split(" ")[0].rstrip(",").lower()
        named = [name for name in WEEKDAY_NAMES if first_word in (name, name[:3])]
        if "{weekday}" in example.format or "{wkd}" in example.format:
            assert named == [WEEKDAY_NAMES[date.weekday()]], example
            with_weekday += 1
        else:
            assert named == [], example
    assert with_weekday > 2000  # 5 of 22 templates name the weekday


def test_a_source_names_one_date_only(splits):
    seen = {}
    for example in all_examples(splits):
        assert seen.setdefault(model_input(example.source), example.target) == example.target


# --- two-digit years ---------------------------------------------------------------------------------


def test_two_digit_years_round_trip_under_the_stated_pivot(splits):
    centuries = Counter()
    for example in all_examples(splits):
        if "{yy}" not in example.format:
            continue
        two_digits = int(re.findall(r"\d+", example.source)[-1])
        year = int(example.target[:4])
        assert 1969 <= year <= 2068 and short_year(two_digits) == year, example
        centuries[year // 100] += 1
    assert centuries[19] > 100 and centuries[20] > 100  # both sides of the pivot are exercised


@pytest.mark.parametrize(("year", "writable"), [(1968, False), (1969, True), (1999, True), (2000, True), (2068, True)])
def test_only_years_the_pivot_maps_back_are_written_with_two_digits(year, writable):
    date = datetime.date(year, 4, 5)
    if writable:
        assert read_date(format_date(date, "{d} {month} {yy}"), "{d} {month} {yy}") == date
    else:
        with pytest.raises(SeqlabError, match="two-digit year"):
            format_date(date, "{d} {month} {yy}")
    with pytest.raises(SeqlabError, match="two-digit year"):
        format_date(datetime.date(2069, 1, 1), "{dd}.{mm}.{yy}")


# --- the splits ------------------------------------------------------------------------------------


def test_default_sizes_and_dates_within_1900_to_2099(splits):
    assert (len(splits.train), len(splits.valid), len(splits.test)) == (20_000, 1_000, 1_000)
    targets = [example.target for example in all_examples(splits)]
    assert min(targets) >= "1900-01-01" and max(targets) <= "2099-12-31"
    assert min(targets) < "1905-01-01" and max(targets) > "2095-01-01"


def test_splits_hold_different_dates_not_only_different_strings(splits):
    dates = {name: [example.target for example in getattr(splits, name)] for name in ("train", "valid", "test")}
    for name, targets in dates.items():
        assert len(set(targets)) == len(targets), f"a date repeats within {name}"
    assert not set(dates["train"]) & set(dates["valid"])
    assert not set(dates["train"]) & set(dates["test"])
    assert not set(dates["valid"]) & set(dates["test"])


def test_every_format_and_every_casing_appears_in_every_split(splits):
    for name in ("train", "valid", "test"):
        examples = getattr(splits, name)
        assert {example.format for example in examples} == set(DATE_FORMATS), name
        assert {example.casing for example in examples} == set(CASINGS), name


def test_pairs_are_source_and_target(splits):
    assert splits.pairs("valid") == [(example.source, example.target) for example in splits.valid]


def test_sizes_and_range_are_configurable():
    small = generate_date_splits(5, train_size=50, valid_size=7, test_size=3, start=datetime.date(2000, 1, 1))
    assert (len(small.train), len(small.valid), len(small.test)) == (50, 7, 3)
    assert min(example.target for example in small.train + small.valid + small.test) >= "2000-01-01"
    one_day = generate_date_splits(
        1, train_size=1, valid_size=0, test_size=0, start=datetime.date(1950, 2, 3), end=datetime.date(1950, 2, 3)
    )
    assert [example.target for example in one_day.train] == ["1950-02-03"] and one_day.valid == one_day.test == []


# --- determinism -----------------------------------------------------------------------------------


def test_same_seed_same_data_other_seed_other_data():
    sizes = {"train_size": 300, "valid_size": 20, "test_size": 20}
    assert generate_date_splits(3, **sizes) == generate_date_splits(3, **sizes)
    assert generate_date_splits(3, **sizes).train != generate_date_splits(4, **sizes).train


def test_the_global_random_state_plays_no_part():
    random.seed(1)
    first = generate_date_splits(9, train_size=100, valid_size=10, test_size=10)
    random.seed(2)
    random.random()
    assert generate_date_splits(9, train_size=100, valid_size=10, test_size=10) == first


def test_seed_0_is_pinned(splits):
    # A data set is named by its seed: these examples must never change, on any platform or Python
    # version (the generator draws only Random.random(), whose sequence Python keeps stable).
    assert splits.train[:3] == [
        ("MONDAY NOVEMBER 19 2068", "2068-11-19", "{weekday} {month} {d} {yyyy}", "upper"),
        ("5 AUGUST 51", "2051-08-05", "{d} {month} {yy}", "upper"),
        ("13.02.84", "1984-02-13", "{dd}.{mm}.{yy}", "upper"),
    ]
    assert splits.test[:2] == [
        ("17th of May 2026", "2026-05-17", "{dth} of {month} {yyyy}", "as written"),
        ("October 7 1981", "1981-10-07", "{month} {d} {yyyy}", "as written"),
    ]


# --- case and characters -----------------------------------------------------------------------------


def test_each_casing_is_what_it_says(splits):
    for example in all_examples(splits):
        if example.casing == "lower":
            assert example.source == example.source.lower()
        elif example.casing == "upper":
            assert example.source == example.source.upper()
        elif example.casing == "title":
            words = re.findall(r"(?<![A-Za-z0-9])[A-Za-z]+", example.source)
            assert all(word[0].isupper() and word[1:].islower() for word in words if len(word) > 1), example
    date = datetime.date(2016, 8, 21)
    written = {casing: format_date(date, "{weekday} the {dord} of {month} {yyyy}", casing=casing) for casing in CASINGS}
    assert written == {
        "as written": "Sunday the 21st of August 2016",
        "lower": "sunday the 21st of august 2016",
        "upper": "SUNDAY THE 21ST OF AUGUST 2016",
        "title": "Sunday The 21st Of August 2016",
    }
    assert {model_input(text) for text in written.values()} == {"sunday the 21st of august 2016"}


def test_the_character_inventories_cover_every_source_and_target(splits):
    lower, cased = set(source_characters()), set(source_characters(lowercase=False))
    assert not any(char.isupper() for char in lower) and lower < cased
    for example in all_examples(splits):
        assert set(model_input(example.source)) <= lower
        assert set(example.source) <= cased
        assert set(example.target) <= set(TARGET_CHARACTERS)
    used = {char for example in all_examples(splits) for char in model_input(example.source)}
    assert used == lower  # no character in the inventory that the data never use


# --- bad arguments -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"train_size": -1}, "train_size must be a whole number >= 0, got -1"),
        ({"valid_size": 2.5}, "valid_size must be a whole number >= 0, got 2.5"),
        ({"start": datetime.date(2000, 1, 2), "end": datetime.date(2000, 1, 1)}, "date range is reversed"),
        ({"start": datetime.date(2000, 1, 1), "end": datetime.date(2000, 12, 31)}, "22,000 examples need"),
        ({"formats": ("{d} {moon} {yyyy}",)}, "formats must be templates in the fields"),
        (
            {
                "formats": ("{dd}.{mm}.{yy}",),
                "start": datetime.date(2080, 1, 1),
                "train_size": 5,
                "valid_size": 0,
                "test_size": 0,
            },
            "none of the formats",
        ),
    ],
)
def test_bad_arguments_are_one_line_errors(kwargs, message):
    with pytest.raises(SeqlabError) as caught:
        generate_date_splits(0, **{"train_size": 20_000, "valid_size": 1_000, "test_size": 1_000, **kwargs})
    assert message in str(caught.value) and "\n" not in str(caught.value)
