"""Reading the host's CPU steal from /proc/stat text, for the benchmark's timing line."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.demo.cpu_steal import CpuTicks, parse_cpu_line, read_cpu_ticks, stolen_share

STAT = """cpu  976751 2010461 241058 2073351 11530 0 1632 14851 7 0
cpu0 488375 1005230 120529 1036675 5765 0 816 7425 0 0
intr 123 0
"""


def test_aggregate_line_counts_up_to_steal() -> None:
    ticks = parse_cpu_line(STAT)
    assert ticks == CpuTicks(total=976751 + 2010461 + 241058 + 2073351 + 11530 + 0 + 1632 + 14851, steal=14851)


@pytest.mark.parametrize("text", ["", "cpu0 1 2 3 4 5 6 7 8\n", "cpu 1 2 3\n", "cpu a b c d e f g h\n"])
def test_missing_or_short_lines_give_none(text: str) -> None:
    assert parse_cpu_line(text) is None


def test_share_between_two_readings() -> None:
    assert stolen_share(CpuTicks(1000, 10), CpuTicks(1400, 50)) == pytest.approx(0.1)
    assert stolen_share(CpuTicks(1000, 10), CpuTicks(1000, 10)) is None  # no time passed
    assert stolen_share(None, CpuTicks(1000, 10)) is None


def test_unreadable_file_gives_none(tmp_path: Path) -> None:
    assert read_cpu_ticks(tmp_path / "missing") is None
    (tmp_path / "stat").write_text(STAT)
    assert read_cpu_ticks(tmp_path / "stat") == parse_cpu_line(STAT)
