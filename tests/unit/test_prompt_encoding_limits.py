"""The exact chunk limit when a prompt is tokenized, and identical chunks encoded once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from modules.errors import InvalidParams
from modules.generation.conditioning import encode_texts
from modules.generation.params import Txt2ImgParams
from modules.generation.txt2img import run_txt2img

# 6,000 escaped brackets: no word in it (the request-time floor is 1 chunk), 6,000 CLIP tokens = 80 chunks
BRACKETS = "\\( " * 6000


@pytest.fixture
def encoder_calls(sd1_app) -> Iterator[list[int]]:  # noqa: ANN001
    """The batch sizes the tiny model's text encoder was called with."""
    calls: list[int] = []
    encoder = sd1_app.models.current.text_encoders[0]
    handle = encoder.register_forward_hook(lambda _m, args, _out: calls.append(int(args[0].shape[0])))
    yield calls
    handle.remove()


def test_a_prompt_over_the_chunk_limit_is_refused_before_encoding(sd1_app, encoder_calls) -> None:  # noqa: ANN001
    with pytest.raises(InvalidParams, match=r"The negative prompt splits into 80 chunks of 75 tokens.*limit is 64"):
        encode_texts(sd1_app.models.current, [BRACKETS], field="negative prompt")
    assert encoder_calls == []


def test_generation_refuses_it_with_the_message(sd1_app) -> None:  # noqa: ANN001
    params = Txt2ImgParams(prompt=BRACKETS, width=64, height=64, steps=2)
    params.validate()  # the word-based floor cannot see it; tokenizing does
    with pytest.raises(InvalidParams, match="The prompt splits into 80 chunks"):
        run_txt2img(sd1_app, params)


def test_identical_chunks_are_encoded_once(sd1_app, encoder_calls) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    joined = encode_texts(model, ["a cat BREAK a cat BREAK a cat BREAK a dog"]).embeds
    assert len(encoder_calls) == 2, "one call for 'a cat', one for 'a dog'"
    cat, dog = (encode_texts(model, [text]).embeds for text in ("a cat", "a dog"))
    assert joined.shape[1] == 4 * 77
    assert torch.equal(joined, torch.cat([cat, cat, cat, dog], dim=1))
