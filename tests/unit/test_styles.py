"""styles.csv: A1111's format, merging rules and the file store."""

from __future__ import annotations

from pathlib import Path

from modules.styles import (
    PromptStyle,
    StyleStore,
    apply_styles,
    delete_style,
    find_styles,
    format_styles_csv,
    merge_prompts,
    parse_styles_csv,
    rename_style,
    save_style,
)

A1111_FILE = (
    "\ufeffname,prompt,negative_prompt\r\n"
    'Cinematic,"cinematic still {prompt} . emotional, harmonious","anime, cartoon"\r\n'
    "Sharp,\"sharp focus, 8k\",blurry\r\n"
    "# disabled,ignored,ignored\r\n"
    ',"no name",\r\n'
    '"Multi line","line one\nline two",\r\n'
)


def test_merge_prompts() -> None:
    assert merge_prompts("cinematic still {prompt} . moody", "a cat") == "cinematic still a cat . moody"
    assert merge_prompts("{prompt}, {prompt}", "x") == "x, x"
    assert merge_prompts("sharp focus", "a cat ") == "a cat, sharp focus"
    assert merge_prompts("sharp focus", "") == "sharp focus"
    assert merge_prompts("", "a cat") == "a cat"
    assert merge_prompts(" ", " ") == ""


def test_apply_styles_in_order_to_both_prompts() -> None:
    styles = [PromptStyle("a", "wrapped ({prompt})", "bad"), PromptStyle("b", "sharp", "")]
    assert apply_styles("cat", "ugly", styles) == ("wrapped (cat), sharp", "ugly, bad")
    assert apply_styles("cat", "", []) == ("cat", "")


def test_parse_a1111_file() -> None:
    styles = parse_styles_csv(A1111_FILE)
    assert [s.name for s in styles] == ["Cinematic", "Sharp", "Multi line"]
    assert styles[0] == PromptStyle("Cinematic", "cinematic still {prompt} . emotional, harmonious", "anime, cartoon")
    assert styles[2].prompt == "line one\nline two" and styles[2].negative_prompt == ""


def test_legacy_header_and_duplicates() -> None:
    styles = parse_styles_csv("name,text\nold,an old style\nold,newer\n")
    assert styles == [PromptStyle("old", "newer", "")]
    assert parse_styles_csv("") == []


def test_format_round_trips() -> None:
    styles = [PromptStyle("q", 'say "hi", {prompt}', "a\nb"), PromptStyle("plain", "x", "")]
    text = format_styles_csv(styles)
    assert text.startswith("name,prompt,negative_prompt\r\n")
    assert parse_styles_csv(text) == styles


def test_edit_functions() -> None:
    a, b = PromptStyle("a", "1"), PromptStyle("b", "2")
    assert save_style([a, b], PromptStyle("a", "new")) == [PromptStyle("a", "new"), b]
    assert save_style([a], b) == [a, b]
    assert delete_style([a, b], "a") == [b] and delete_style([a], "zzz") == [a]
    assert rename_style([a, b], "a", "c") == [PromptStyle("c", "1"), b]
    assert rename_style([a, b], "a", "b") == [PromptStyle("b", "1")]
    assert find_styles([a, b], ["b", "missing", "a"]) == [b, a]


def test_store(tmp_path: Path) -> None:
    store = StyleStore.in_data_dir(tmp_path)
    assert store.load() == []
    store.put(PromptStyle("one", "{prompt}, best", "worst"))
    store.put(PromptStyle("two", "x"))
    assert [s.name for s in store.load()] == ["one", "two"]
    assert store.path.read_bytes().startswith(b"\xef\xbb\xbfname,prompt,negative_prompt\r\n")
    store.delete("one")
    assert store.load() == [PromptStyle("two", "x")]
    assert (tmp_path / "styles.csv.bak").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".styles-")] == []


def test_store_reads_a1111_file(tmp_path: Path) -> None:
    (tmp_path / "styles.csv").write_text(A1111_FILE.removeprefix("\ufeff"), encoding="utf-8")
    assert len(StyleStore.in_data_dir(tmp_path).load()) == 3
