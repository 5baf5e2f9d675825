"""X/Y/Z axis values: A1111's CSV and range syntax, ranges up and down, steps, counts, floats, quotes,
negatives, sizes, permutations, and every kind of bad input named in the error."""

from __future__ import annotations

import pytest

from modules.errors import InvalidParams
from modules.xyz import parse_axis_values
from modules.xyz.values import MAX_VALUES


@pytest.mark.parametrize(("text", "expected"), [
    ("1-5", [1, 2, 3, 4, 5]),
    ("1-5 (+2)", [1, 3, 5]),
    ("1-10 (+3)", [1, 4, 7, 10]),
    ("1-10 (+4)", [1, 5, 9]),  # the end is included only when a step lands on it
    ("10-1 (-3)", [10, 7, 4, 1]),  # the example
    ("10-1", [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]),  # our rule: B below A counts down (A1111: nothing)
    ("3-3", [3]),
    ("1-5 (2)", [1, 3, 5]),  # an unsigned step counts up
    ("1-10 [5]", [1, 3, 5, 7, 10]),  # linspace cut to whole numbers, as A1111
    ("10-1 [4]", [10, 7, 4, 1]),
    ("1-2 [1]", [1]),
    ("5, 10 , 15", [5, 10, 15]),
    ("1-3, 7, 9-8", [1, 2, 3, 7, 9, 8]),
    ("1-2\n5", [1, 2, 5]),  # a new line separates values too
    ("20, , 30,", [20, 30]),  # empty items are dropped
    (" 1 - 3 ", [1, 2, 3]),
])
def test_int_values_and_ranges(text: str, expected: list[int]) -> None:
    values = parse_axis_values("Steps", text)
    assert values == expected and all(type(v) is int for v in values)


def test_negative_numbers_and_seeds() -> None:
    assert parse_axis_values("Seed", "-1, 5") == [-1, 5]
    assert parse_axis_values("Seed", "-3-1") == [-3, -2, -1, 0, 1]
    assert parse_axis_values("Seed", "-1--3") == [-1, -2, -3]
    assert parse_axis_values("Seed", "2 - -2 (-2)") == [2, 0, -2]
    assert parse_axis_values("Var. seed", "4294967290-4294967295 [2]") == [4294967290, 4294967295]


@pytest.mark.parametrize(("text", "expected"), [
    ("7, 7.5, 8", [7.0, 7.5, 8.0]),
    ("1-3", [1.0, 2.0, 3.0]),
    ("3-1", [3.0, 2.0, 1.0]),
    ("1-2 [3]", [1.0, 1.5, 2.0]),
    ("0.1-0.5 (+0.1)", [0.1, 0.2, 0.3, 0.4, 0.5]),  # no float noise, no value past the end
    ("0.5-1 (+0.3)", [0.5, 0.8]),
    ("2-1 (-0.25)", [2.0, 1.75, 1.5, 1.25, 1.0]),
    ("-1.5--0.5", [-1.5, -0.5]),
    (".5-1.5", [0.5, 1.5]),
    ("1e1", [10.0]),
])
def test_float_values_and_ranges(text: str, expected: list[float]) -> None:
    values = parse_axis_values("CFG Scale", text)
    assert values == expected and all(isinstance(v, float) for v in values)


def test_strings_keep_quoted_commas() -> None:
    assert parse_axis_values("Sampler", 'Euler a, "DPM++ 2M, odd", DDIM') == ["Euler a", "DPM++ 2M, odd", "DDIM"]
    assert parse_axis_values("Checkpoint name", "a.safetensors") == ["a.safetensors"]
    replaced = parse_axis_values("Prompt S/R", "cat, dog, 一只狐狸")
    assert replaced == ["cat", "dog", "一只狐狸"] and {v.search for v in replaced} == {"cat"}


def test_size_permutations_and_nothing() -> None:
    assert parse_axis_values("Size", "512x768, 64 X 64, 128\u00d7256") == [(512, 768), (64, 64), (128, 256)]
    assert parse_axis_values("Prompt order", "a, b, c") == [
        ("a", "b", "c"), ("a", "c", "b"), ("b", "a", "c"), ("b", "c", "a"), ("c", "a", "b"), ("c", "b", "a")]
    assert parse_axis_values("Nothing", "") == [None] and parse_axis_values("Nothing", "1, 2") == [None]


@pytest.mark.parametrize(("axis", "text", "fragment"), [
    ("Steps", "ten", "Steps: 'ten' is not a whole number"),
    ("Steps", "1.5", "Steps: '1.5' is not a whole number"),
    ("Steps", "1-5 (+1.5)", r"Steps: '1-5 \(\+1.5\)' is not a whole number"),
    ("Steps", "1-10 (-1)", r"the step in '1-10 \(-1\)' never reaches"),
    ("Steps", "10-1 (+3)", r"the step in '10-1 \(\+3\)' never reaches"),
    ("Steps", "1-5 (0)", "never reaches"),
    ("Steps", "1-5 [0]", "count in \\[N\\] must be at least 1"),
    ("Steps", "1-100000000", "alone gives 100000000 values; an axis may have at most 1000"),
    ("CFG Scale", "nan", "CFG Scale: 'nan' is not a number"),
    ("CFG Scale", "inf", "'inf' is not a number"),
    ("CFG Scale", "0-1 (+0.0001)", "at most 1000"),
    ("Size", "512", "Size: '512' is not a size"),
    ("Size", "512x", "not a size"),
    ("Steps", " , ", "Steps: no values"),
    ("Sampler", "", "Sampler: no values"),
    ("Prompt order", "a,b,c,d,e,f,g", "at most 6 items"),
    ("Colour", "red", "no X/Y/Z axis type 'Colour'"),
])
def test_bad_values_name_the_axis_and_the_value(axis: str, text: str, fragment: str) -> None:
    with pytest.raises(InvalidParams, match=fragment):
        parse_axis_values(axis, text)


def test_the_cap_counts_every_item() -> None:
    assert len(parse_axis_values("Seed", f"1-{MAX_VALUES}")) == MAX_VALUES
    with pytest.raises(InvalidParams, match="at most 1000"):
        parse_axis_values("Seed", f"1-{MAX_VALUES}, 5")
    with pytest.raises(InvalidParams, match="1001 values"):
        parse_axis_values("Sampler", ",".join(["Euler"] * (MAX_VALUES + 1)))
    with pytest.raises(InvalidParams, match="could not be read"):
        parse_axis_values("Sampler", "a" * 200_000)  # over the csv module's field size limit
