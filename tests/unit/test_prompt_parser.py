"""The prompt language, checked against A1111 v1.10.1's results on the same inputs.

Expected values were produced by A1111's own functions (its lark grammar, v1.1.2) on these inputs; see
the compatibility reference, section 4. Differential fuzzing against that implementation agreed on
every prompt whose A1111 result does not depend on the process's hash seed.
"""

from __future__ import annotations

import pytest

from modules.prompt_parser import (
    get_learned_conditioning_prompt_schedules,
    get_multicond_prompt_list,
    parse_prompt_attention,
    split_subprompts,
    strip_comments,
    text_for_step,
)
from modules.prompt_schedule import parse_schedule_tree

D = 1 / 1.1

ATTENTION = [
    ("", [["", 1.0]]),
    ("a cat", [["a cat", 1.0]]),
    ("(text)", [["text", 1.1]]),
    ("((text))", [["text", 1.2100000000000002]]),
    ("(((text)))", [["text", 1.3310000000000004]]),
    ("[text]", [["text", 0.9090909090909091]]),
    ("[[text]]", [["text", 0.8264462809917354]]),
    ("(text:1.3)", [["text", 1.3]]),
    ("(y:-1)", [["y", -1.0]]),
    ("(a:+1.5)", [["a", 1.5]]),
    ("( a : 1.5 )", [[" a ", 1.5]]),
    ("(text:0)", [["text", 0.0]]),
    ("[text:1.3]", [["text:1.3", D]]),  # square brackets take no weight
    ("(a:b)", [["a:b", 1.1]]),  # ':' not followed by 'number)' is text
    ("a:1.2)", [["a:1.2)", 1.0]]),  # a weight with no open '(' is text
    ("a (b", [["a ", 1.0], ["b", 1.1]]),  # unclosed brackets reach to the end
    ("a [b", [["a ", 1.0], ["b", D]]),
    ("a ) b ]", [["a ) b ]", 1.0]]),  # stray closers are text
    ("[a (b] c)", [["a ", D], ["b", 1.0], [" c", 1.1]]),  # crossed brackets each close their own kind
    ("\\(a\\) \\[b\\] \\\\ c", [["(a) [b] \\ c", 1.0]]),
    ("a \\b", [["a b", 1.0]]),  # a lone backslash is dropped
    ("a (b) (c) d", [["a ", 1.0], ["b", 1.1], [" ", 1.0], ["c", 1.1], [" d", 1.0]]),
    ("((a:1.5) b)", [["a", 1.6500000000000001], [" b", 1.1]]),
    ("(a [b] c:2)", [["a ", 2.0], ["b", 1.8181818181818181], [" c", 2.0]]),
    ("(a)(b)", [["ab", 1.1]]),  # equal neighbours merge
    ("a BREAK b", [["a", 1.0], ["BREAK", -1], ["b", 1.0]]),
    ("BREAK", [["", 1.0], ["BREAK", -1], ["", 1.0]]),
    ("aBREAK b", [["aBREAK b", 1.0]]),
    ("break BREAKING", [["break BREAKING", 1.0]]),
    ("(a BREAK b)", [["a", 1.1], ["BREAK", -1.1], ["b", 1.1]]),  # inside brackets it is weighted too
    ("a ((b) BREAK c", [["a ", 1.0], ["b", 1.2100000000000002], ["", 1.1], ["BREAK", -1.1], ["c", 1.1]]),
    ("a, (masterpiece:1.2), [blurry]", [["a, ", 1.0], ["masterpiece", 1.2], [", ", 1.0], ["blurry", D]]),
]


@pytest.mark.parametrize(("text", "expected"), ATTENTION)
def test_parse_prompt_attention(text: str, expected: list) -> None:
    assert parse_prompt_attention(text) == expected


def test_unreadable_weight_is_text_not_an_error() -> None:
    # A1111 raises on these; here the ':' is text and the brackets weigh 1.1
    assert parse_prompt_attention("(a:1.2.3)") == [["a:1.2.3", 1.1]]
    assert parse_prompt_attention("(a:.)") == [["a:.", 1.1]]


SCHEDULES_10 = [
    ("", [[10, ""]]),
    ("a cat", [[10, "a cat"]]),
    ("a [b:c:5] d", [[5, "a b d"], [10, "a c d"]]),
    ("a [b:5] d", [[5, "a  d"], [10, "a b d"]]),
    ("a [b::5] d", [[5, "a b d"], [10, "a  d"]]),
    ("a [b:c:0.25] d", [[2, "a b d"], [10, "a c d"]]),
    ("[b:c:.5]", [[5, "b"], [10, "c"]]),
    ("[a:b:0]", [[10, "b"]]),
    ("[a:b:-3]", [[10, "b"]]),
    ("[a:b:30]", [[10, "a"]]),  # step numbers beyond the end are clamped
    ("[a:b:1]", [[1, "a"], [10, "b"]]),
    ("[a:b:1.]", [[10, "a"]]),  # has '.', so a fraction: 1.0 of the steps
    ("[a:b:1e1]", [[10, "a"]]),
    ("[a:b:2 ]", [[2, "a"], [10, "b"]]),
    ("[ a : b : 0.5 ]", [[5, " a "], [10, " b "]]),
    ("a[b:[c:d:2]:1]e", [[1, "abe"], [2, "ace"], [10, "ade"]]),
    ("(a:[b:c:3])", [[3, "(a:b)"], [10, "(a:c)"]]),
    ("[(a:1.2):(b:0.8):4]", [[4, "(a:1.2)"], [10, "(b:0.8)"]]),
    ("[a|b|c]", [[1, "a"], [2, "b"], [3, "c"], [4, "a"], [5, "b"], [6, "c"], [7, "a"], [8, "b"], [9, "c"], [10, "a"]]),
    ("[fe|]male", [[i, "female" if i % 2 else "male"] for i in range(1, 11)]),
    ("[[a:b:3]|c]", [[1, "a"], [2, "c"], [3, "a"], [4, "c"], [5, "b"], [6, "c"], [7, "b"], [8, "c"], [9, "b"], [10, "c"]]),
    ("([a|b]:1.2)", [[i, "(a:1.2)" if i % 2 else "(b:1.2)"] for i in range(1, 11)]),
    # not an edit: used as written
    ("[a:b:c]", [[10, "[a:b:c]"]]),
    ("x [a:b:0.5x]", [[10, "x [a:b:0.5x]"]]),
    ("a | b", [[10, "a | b"]]),  # '|' outside an alternation: the prompt does not parse
    ("[a|b] c|d", [[10, "[a|b] c|d"]]),
    ("x \\", [[10, "x \\"]]),  # a trailing backslash: does not parse
    ("x \\[a:b:3]", [[10, "x \\[a:b:3]"]]),  # escaped bracket
    ("[a\\:b:3]", [[3, ""], [10, "a\\:b"]]),  # escaped colon is text
    # stray brackets around an edit stay text, the edit still works
    ("[a [b:c:3]", [[3, "[a b"], [10, "[a c"]]),
    ("(a [b:c:3]", [[3, "(a b"], [10, "(a c"]]),
    ("x ) [b:c:3] )", [[3, "x ) b )"], [10, "x ) c )"]]),
    ("[[b:c:3]]", [[3, "[b]"], [10, "[c]"]]),
    ("a ( [b:c:3] ] ", [[3, "a ( b ] "], [10, "a ( c ] "]]),
]


@pytest.mark.parametrize(("prompt", "expected"), SCHEDULES_10)
def test_schedules(prompt: str, expected: list) -> None:
    assert get_learned_conditioning_prompt_schedules([prompt], 10) == [expected]


def test_schedules_keep_order_and_duplicates() -> None:
    result = get_learned_conditioning_prompt_schedules(["a", "[a:b:2]", "a"], 4)
    assert result == [[[4, "a"]], [[2, "a"], [4, "b"]], [[4, "a"]]]


def test_hires_schedules_offset_steps_and_fractions() -> None:
    prompts = ["[a:b:0.5]", "[a:b:1.5]", "[a:b:5]", "[a:b:15]"]
    assert get_learned_conditioning_prompt_schedules(prompts, 10, 20) == [
        [[20, "b"]], [[10, "a"], [20, "b"]], [[20, "b"]], [[5, "a"], [20, "b"]],
    ]


def test_old_scheduling_below_one_is_a_fraction() -> None:
    prompts = ["[a:b:0.5]", "[a:b:1]", "[a:b:5]", "[a:b:1.5]"]
    assert get_learned_conditioning_prompt_schedules(prompts, 10, None, True) == [
        [[5, "a"], [10, "b"]], [[1, "a"], [10, "b"]], [[5, "a"], [10, "b"]], [[1, "a"], [10, "b"]],
    ]


def test_text_for_step_uses_first_entry_not_yet_ended() -> None:
    schedule = get_learned_conditioning_prompt_schedules(["[a:b:0.5]"], 10)[0]
    # 0-based sampling steps 0..5 use "a" (A1111 compares step <= end_at_step), 6..9 use "b"
    assert [text_for_step(schedule, i) for i in range(10)] == ["a"] * 6 + ["b"] * 4


def test_huge_numbers_and_deep_or_long_prompts_do_not_fail() -> None:
    assert get_learned_conditioning_prompt_schedules(["[a:b:1e400]"], 10) == [[[10, "a"]]]
    deep = "(" * 5000 + "x"
    assert get_learned_conditioning_prompt_schedules([deep], 10) == [[[10, deep]]]
    many = "[" * 20000 + "a"
    assert get_learned_conditioning_prompt_schedules([many], 10) == [[[10, many]]]
    (text, weight), = parse_prompt_attention("(" * 300 + "x")
    assert text == "x" and weight == pytest.approx(1.1**300)


def test_schedule_tree_shapes() -> None:
    assert parse_schedule_tree("a | b") is None
    tree = parse_schedule_tree("x [a:b:3] (c:1.2)")
    assert tree is not None and tree[0] == "x "


MULTICOND = [
    ("a cat AND a dog", [(0, 1.0), (1, 1.0)], ["a cat", " a dog"]),
    ("a cat :1.2 AND a dog :0.8", [(0, 1.2), (1, 0.8)], ["a cat", " a dog"]),
    ("a cat AND a dog:-0.5", [(0, 1.0), (1, -0.5)], ["a cat", " a dog"]),
    ("cat ANDdog", [(0, 1.0)], ["cat ANDdog"]),
    ("cat and dog", [(0, 1.0)], ["cat and dog"]),
    ("a AND a", [(0, 1.0), (1, 1.0)], ["a", " a"]),
    ("cat:1.2", [(0, 1.2)], ["cat"]),
    ("a:1.2.3", [(0, 1.0)], ["a:1.2.3"]),
    ("x AND", [(0, 1.0), (1, 1.0)], ["x", ""]),
    ("(a:1.2)", [(0, 1.0)], ["(a:1.2)"]),
    ("a : 2 AND b:.5 AND c:3.", [(0, 2.0), (1, 0.5), (2, 3.0)], ["a", " b", " c"]),
    ("", [(0, 1.0)], [""]),
]


@pytest.mark.parametrize(("prompt", "indexes", "flat"), MULTICOND)
def test_multicond_prompt_list(prompt: str, indexes: list, flat: list) -> None:
    got_indexes, got_flat, by_text = get_multicond_prompt_list([prompt])
    assert got_indexes == [indexes]
    assert got_flat == flat
    assert by_text == {text: i for i, text in enumerate(flat)}


def test_multicond_dedupes_across_prompts() -> None:
    indexes, flat, _ = get_multicond_prompt_list(["a AND b", "b AND a"])
    assert flat == ["a", " b", "b", " a"]
    assert indexes == [[(0, 1.0), (1, 1.0)], [(2, 1.0), (3, 1.0)]]
    indexes, flat, _ = get_multicond_prompt_list(["cat", "cat:2"])
    assert flat == ["cat"] and indexes == [[(0, 1.0)], [(0, 2.0)]]


def test_split_subprompts() -> None:
    assert split_subprompts("a :1.5 AND b\n") == [("a", 1.5), (" b", 1.0)]


@pytest.mark.parametrize(("text", "expected"), [
    ("a cat", "a cat"),
    ("a cat # a comment", "a cat \n"),
    ("# whole line\na cat", "\na cat"),
    ("a\n# c\nb", "a\nb"),
    ("a # x\nb # y", "a \nb \n"),
    ("#only", "\n"),
    ("(a:1.2), b", "(a:1.2), b"),
])
def test_strip_comments(text: str, expected: str) -> None:
    assert strip_comments(text) == expected
