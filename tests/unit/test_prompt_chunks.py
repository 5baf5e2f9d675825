"""75-token chunking: comma backtrack, BREAK, padding, weights, token counts, embedding placement."""

from __future__ import annotations

import pytest

from modules.generation.prompt_chunks import (
    EmbeddingMatch,
    SpecialTokens,
    build_chunks,
    prompt_chunks,
    token_limit,
)
from modules.generation.prompt_conditioning import count_tokens, plan_prompts

START, END, COMMA, WORD = 49406, 49407, 267, 1
SD1 = SpecialTokens(start=START, end=END, pad=END, comma=COMMA)


@pytest.fixture(scope="module")
def tokenizer():  # noqa: ANN201
    from modules.model_manager.checkpoints import tokenizers_for

    return tokenizers_for("sd1")[0]


def _chunks(ids: list[int], backtrack: int = 20) -> tuple[list[list[int]], int]:
    chunks, count = build_chunks([("x", 1.0)], [ids], SD1, backtrack)
    assert all(len(c.tokens) == 77 and len(c.multipliers) == 77 for c in chunks)
    return [c.tokens for c in chunks], count


def test_short_prompt_is_one_padded_chunk() -> None:
    (tokens,), count = _chunks([WORD, WORD])
    assert tokens == [START, WORD, WORD] + [END] * 74 and count == 2


def test_empty_prompt_is_one_empty_chunk() -> None:
    (tokens,), count = _chunks([])
    assert tokens == [START] + [END] * 76 and count == 0


def test_exactly_75_tokens_fit_one_chunk_and_76_need_two() -> None:
    chunks, count = _chunks([WORD] * 75)
    assert len(chunks) == 1 and count == 75
    chunks, count = _chunks([WORD] * 76)
    assert len(chunks) == 2 and count == 76 and chunks[1][:3] == [START, WORD, END]


def test_comma_backtrack_moves_the_words_after_the_last_comma() -> None:
    ids = [WORD] * 55 + [COMMA] + [WORD] * 30  # comma at index 55: 75 - 55 = 20 <= 20
    chunks, count = _chunks(ids)
    assert chunks[0][1:58] == [WORD] * 55 + [COMMA, END]  # cut right after the comma, rest padded
    assert chunks[1][1:31] == [WORD] * 30 and chunks[1][31] == END
    assert count == 75 + 30


def test_comma_too_far_back_or_backtrack_off_does_not_move() -> None:
    far = [WORD] * 54 + [COMMA] + [WORD] * 31  # 75 - 54 = 21 > 20
    chunks, _ = _chunks(far)
    assert chunks[0][-2] == WORD and chunks[1][1:8] == [WORD] * 7
    chunks, _ = _chunks([WORD] * 55 + [COMMA] + [WORD] * 30, backtrack=0)
    assert chunks[0][-2] == WORD


def test_break_closes_the_chunk_and_counts_a_full_one() -> None:
    chunks, count = build_chunks([("a", 1.0), ("BREAK", -1), ("b", 1.0)], [[WORD], [999], [WORD + 1]], SD1)
    assert [c.tokens[:3] for c in chunks] == [[START, WORD, END], [START, WORD + 1, END]]
    assert count == 76 and token_limit(count) == 150


def test_weighted_break_is_just_a_word() -> None:
    chunks, _ = build_chunks([("BREAK", -1.1)], [[999]], SD1)
    assert len(chunks) == 1 and chunks[0].multipliers[1] == -1.1


def test_multipliers_follow_the_tokens() -> None:
    chunks, _ = build_chunks([("a ", 1.0), ("b", 1.5)], [[WORD], [WORD + 1, WORD + 2]], SD1)
    assert chunks[0].multipliers[:5] == [1.0, 1.0, 1.5, 1.5, 1.0]


def test_open_clip_pad_is_left_to_the_encoder() -> None:
    special = SpecialTokens(start=START, end=END, pad=0, comma=COMMA)
    chunks, _ = build_chunks([("a", 1.0)], [[WORD]], special)
    assert chunks[0].tokens[:4] == [START, WORD, END, END]  # conditioning.py swaps in pad after the first end


def test_embeddings_are_placed_whole_and_never_split() -> None:
    def finder(ids, position):  # noqa: ANN001, ANN202
        return EmbeddingMatch("emb", vectors=None, vector_count=4, token_count=2) if ids[position] == 7 else None

    chunks, count = build_chunks([("x", 1.2)], [[WORD] * 73 + [7, 8]], SD1, find_embedding=finder)
    assert len(chunks) == 2 and chunks[0].fixes == [] and count == 75 + 4
    assert chunks[1].fixes[0].offset == 1 and chunks[1].tokens[1:5] == [0] * 4
    assert chunks[1].multipliers[1:5] == [1.2] * 4


def test_real_tokenizer_counts(tokenizer) -> None:  # noqa: ANN001
    assert prompt_chunks(tokenizer, "a cat")[1] == 2
    assert prompt_chunks(tokenizer, "(a cat:1.3)")[1] == 2
    assert prompt_chunks(tokenizer, "(a cat:1.3)", emphasis="None")[1] > 2  # brackets are text
    long = ", ".join(["word"] * 100)  # 199 tokens
    chunks, count = prompt_chunks(tokenizer, long)
    assert len(chunks) == 3 and count == 199


def test_token_counter(tokenizer) -> None:  # noqa: ANN001
    assert count_tokens(tokenizer, "") == (0, 75)
    assert count_tokens(tokenizer, "a cat <lora:x:1>") == (2, 75)
    assert count_tokens(tokenizer, "[a cat:a very big red cat with hat:0.5]") == (7, 75)  # the longest text
    assert count_tokens(tokenizer, "a AND b c") == (2, 75)  # each subprompt alone
    assert count_tokens(tokenizer, "a AND b c", negative=True) == (4, 75)
    assert count_tokens(tokenizer, "a BREAK b") == (76, 150)
    assert count_tokens(tokenizer, "a # comment with many words") == (1, 75)


def test_plan_prompts() -> None:
    plan = plan_prompts("# note\na [cat:dog:0.5] <lora:x:0.7> AND snow:-0.4", "blurry [x|y]", steps=4)
    assert [tag.name for tag in plan.networks] == ["x"]
    assert [weight for _, weight in plan.parts] == [1.0, -0.4]
    assert plan.parts[0][0] == [[2, "\na cat"], [4, "\na dog"]]
    assert plan.texts_at(0) == ([("\na cat", 1.0), (" snow", -0.4)], "blurry x")
    assert plan.texts_at(2) == ([("\na cat", 1.0), (" snow", -0.4)], "blurry y")  # 0-based step 2 <= end 2
    assert plan.texts_at(3) == ([("\na dog", 1.0), (" snow", -0.4)], "blurry x")
    assert plan.texts() == ["\na cat", "\na dog", " snow", "blurry x", "blurry y"]
    kept = plan_prompts("a # b", "", steps=4, comments=False)
    assert kept.parts[0][0] == [[4, "a # b"]]


def test_special_tokens_of_the_shipped_tokenizers() -> None:
    from modules.model_manager.checkpoints import tokenizers_for

    for arch in ("sd1", "sd2", "sdxl"):
        for tokenizer in tokenizers_for(arch):
            special = SpecialTokens.of(tokenizer)
            assert special.comma == tokenizer.get_vocab()[",</w>"] == 267
            assert (special.start, special.end) == (49406, 49407)
            assert special.pad == (0 if tokenizer.pad_token == "!" else 49407)
