"""Extra-network tags are cut out of the CLIP text and returned with their arguments."""

from __future__ import annotations

from modules.extra_network_tags import NetworkTag, parse_extra_network_tags, strip_extra_network_tags


def test_lora_and_hypernet_tags_are_removed_and_returned() -> None:
    text, tags = parse_extra_network_tags("a red fox, (golden hour:1.2), <lora:foxStyle:0.8> <hypernet:anime:0.5>")
    assert text == "a red fox, (golden hour:1.2),  "
    assert tags == [NetworkTag("lora", "foxStyle", ("0.8",)), NetworkTag("hypernet", "anime", ("0.5",))]
    assert tags[0].multiplier() == 0.8 and tags[0].items == ["foxStyle", "0.8"]


def test_separate_text_encoder_and_unet_weights_and_named_args() -> None:
    _, (tag,) = parse_extra_network_tags("<lora:detail:0.6:1.0>")
    assert tag.args == ("0.6", "1.0") and tag.multiplier(0) == 0.6 and tag.multiplier(1) == 1.0
    _, (named,) = parse_extra_network_tags("<lora:detail:te=0.5:unet=1>")
    assert named.name == "detail" and named.args == () and named.named == {"te": "0.5", "unet": "1"}
    assert named.multiplier() == 1.0  # no positional weight: the default


def test_name_only_and_unknown_kinds() -> None:
    text, tags = parse_extra_network_tags("x <lora:plain> y <lyco:other:2> <foo:bar>")
    assert text == "x  y  "
    assert [(t.kind, t.name, t.multiplier()) for t in tags] == [("lora", "plain", 1.0), ("lyco", "other", 2.0),
                                                                ("foo", "bar", 1.0)]


def test_not_tags() -> None:
    for text in ("a <b> c", "<:x>", "a < b > c", "<lora:>", "x <lora:a"):
        assert parse_extra_network_tags(text) == (text, [])
    assert strip_extra_network_tags("[<lora:a:1>:<lora:b:1>:0.5]") == "[::0.5]"
