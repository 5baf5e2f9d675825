"""Prompt amplifiers are refused by the params' validation (before any job is queued), with the limit named."""

from __future__ import annotations

import pytest

from modules.errors import InvalidParams
from modules.generation.params import Img2ImgParams, Txt2ImgParams
from modules.generation.prompt_chunks import prompt_chunks
from modules.prompt_limits import (
    MAX_PROMPT_CHUNKS,
    MAX_PROMPT_DEPTH,
    MAX_PROMPT_PARTS,
    MAX_PROMPT_SCHEDULES,
    chunk_floor,
    prompt_problem,
)
from modules.prompt_parser import emphasis_depth, parse_prompt_attention
from modules.prompt_schedule import count_schedules, parse_schedule_tree

# a heavy but real prompt: 20 BREAKs, emphasis nested 10 deep, 30 edits and alternations, 4 AND parts
REALISTIC = (" BREAK ".join(f"part {i}, detailed, (sharp:1.2)" for i in range(21))
             + " " + "(" * 10 + "deep" + ")" * 10
             + " " + " ".join(f"[cat{i}:dog{i}:{i % 19 + 1}]" for i in range(25))
             + " [red|green|blue] [day|night] [a|b|c|d] [[x|y]|z] AND fog :0.3 AND rain AND snow:-0.2")


def refusal(prompt: str, negative: str = "", **kwargs: object) -> str:
    with pytest.raises(InvalidParams) as caught:
        Txt2ImgParams(prompt=prompt, negative_prompt=negative, **kwargs).validate()  # type: ignore[arg-type]
    return str(caught.value)


def test_many_breaks_are_refused_with_the_chunk_limit() -> None:
    text = refusal("a BREAK " * 4000)
    assert "4,000 chunks of 75 tokens" in text and f"the limit is {MAX_PROMPT_CHUNKS}" in text and "BREAK" in text


def test_a_long_prompt_without_breaks_is_refused_too() -> None:
    assert "at least 67 chunks" in refusal("word " * 5000)


@pytest.mark.parametrize("prompt", ["(" * 10_000 + "a", "[" * 10_000 + "a", "(" * 5000 + "a" + ")" * 5000])
def test_deep_nesting_is_refused_with_the_depth_limit(prompt: str) -> None:
    text = refusal(prompt)
    assert "deep" in text and f"the limit is {MAX_PROMPT_DEPTH}" in text


def test_nested_edits_are_refused_by_depth() -> None:
    text = refusal("[a:" * 5000 + "b")
    assert "5,000 deep" in text and f"the limit is {MAX_PROMPT_DEPTH}" in text


def test_too_many_edits_and_alternations() -> None:
    prompt = "[a:b:3] " * 60 + "[c|d] " * 41
    text = refusal(prompt)
    assert "101 prompt edits and alternations" in text and f"the limit is {MAX_PROMPT_SCHEDULES}" in text
    Txt2ImgParams(prompt="[a:b:3] " * 60 + "[c|d] " * 40).validate()


def test_too_many_and_parts() -> None:
    text = refusal("a AND " * MAX_PROMPT_PARTS + "b")
    assert f"{MAX_PROMPT_PARTS + 1} parts joined by AND" in text and f"the limit is {MAX_PROMPT_PARTS}" in text


@pytest.mark.parametrize("prompt", ["(a:1" + "0" * 30 + ")", "(a:1" + "0" * 400 + ")", "(((a:20):20):20)", "a AND b :5000"])
def test_weights_that_overflow_are_refused(prompt: str) -> None:
    assert "weights must be between -1,000 and 1,000" in refusal(prompt)


def test_the_negative_prompt_and_img2img_get_the_same_checks() -> None:
    assert "The negative prompt nests brackets 10,000 deep" in refusal("a cat", "(" * 10_000)
    assert "The negative prompt splits into at least 4,000" in refusal("a cat", "a BREAK " * 4000)
    with pytest.raises(InvalidParams, match="4,000 chunks"):
        Img2ImgParams(prompt="a BREAK " * 4000, init_images=(object(),)).validate()  # type: ignore[arg-type]


def test_and_in_the_negative_prompt_is_text() -> None:
    Txt2ImgParams(prompt="a", negative_prompt="x AND " * 40).validate()


def test_comments_and_the_emphasis_mode_are_taken_into_account() -> None:
    Txt2ImgParams(prompt="a cat\n# " + "(" * 100 + "\n").validate()  # removed before generation
    Txt2ImgParams(prompt="a BREAK " * 100, emphasis="None").validate()  # BREAK is plain text there
    Txt2ImgParams(prompt="(a:5000)", emphasis="Ignore").validate()  # weights are not used


def test_a_realistic_heavy_prompt_passes() -> None:
    assert prompt_problem(REALISTIC, "prompt", 30) is None
    Txt2ImgParams(prompt=REALISTIC, negative_prompt=REALISTIC.replace(" AND ", ", "), steps=150).validate()


def test_emphasis_depth_counts_as_the_attention_parser_pairs() -> None:
    assert emphasis_depth("a (b [c] (d:1.2)) e") == 2 and emphasis_depth("(b [c (d:1.2)])") == 3
    assert emphasis_depth("((((") == 4  # unclosed brackets reach to the end
    assert emphasis_depth("a ) ] ( b") == 1  # stray closers are text
    assert emphasis_depth(r"\(\(\( a") == 0  # escaped
    assert emphasis_depth("[(a]") == 2 and emphasis_depth("") == 0


def test_count_schedules_counts_nested_ones() -> None:
    tree = parse_schedule_tree("[a:[b|c]:3] ([d:e:0.5]:1.2) [x]")
    assert tree is not None and count_schedules(tree) == 3


@pytest.fixture(scope="module")
def tokenizer():  # noqa: ANN201
    from modules.model_manager.checkpoints import tokenizers_for

    return tokenizers_for("sd1")[0]


@pytest.mark.parametrize("text", [
    "a BREAK " * 70, "word " * 200, "it's a (red:1.3) car, 12345 BREAK BREAK x", "", "BREAK",
    "x_y_z " * 90 + "BREAK" + " Ünïcode 日本語" * 40, "a " * 75 + "BREAK b", "a, " * 150,
])
def test_chunk_floor_never_exceeds_the_real_count(tokenizer, text: str) -> None:  # noqa: ANN001
    floor = chunk_floor([(run, weight) for run, weight in parse_prompt_attention(text)])
    assert 1 <= floor <= len(prompt_chunks(tokenizer, text)[0])


def test_the_cli_refuses_it_with_status_2_before_any_model_loads(tmp_path) -> None:  # noqa: ANN001
    import io

    from modules.cli_generate import EXIT_BAD_INPUT, main

    out, err = io.StringIO(), io.StringIO()
    code = main(["txt2img", "a BREAK " * 100, "--data-dir", str(tmp_path), "--device", "cpu", "--no-demo-model"],
                out=out, err=err)
    assert code == EXIT_BAD_INPUT and out.getvalue() == ""
    assert err.getvalue().startswith("error: The prompt splits into at least 100 chunks") and "Loaded" not in err.getvalue()
