"""How much CPU time the host took away from this virtual machine during a timed run.

On a shared VM the same benchmark can take 1.4 s per image one minute and 2.0 s the next: the hypervisor
gives the cores to another guest ("steal" in /proc/stat). The benchmark prints the stolen share next to
its seconds per image, so a slow figure can be told apart from a slow model. Linux only; elsewhere the
share is unknown (None).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROC_STAT = Path("/proc/stat")
STEAL_FIELD = 7  # user nice system idle iowait irq softirq steal guest guest_nice
COUNTED_FIELDS = 8  # guest time is already inside user time, so the total stops at steal


@dataclass(frozen=True)
class CpuTicks:
    total: int
    steal: int


def parse_cpu_line(text: str) -> CpuTicks | None:
    """The aggregate 'cpu ' line of /proc/stat as ticks, or None when text has no such line."""
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu" and len(parts) > 1 + STEAL_FIELD:
            try:
                values = [int(v) for v in parts[1 : 1 + COUNTED_FIELDS]]
            except ValueError:
                return None
            return CpuTicks(total=sum(values), steal=values[STEAL_FIELD])
    return None


def read_cpu_ticks(path: Path = PROC_STAT) -> CpuTicks | None:
    try:
        return parse_cpu_line(path.read_text(encoding="ascii", errors="replace"))
    except OSError:
        return None


def stolen_share(before: CpuTicks | None, after: CpuTicks | None) -> float | None:
    """Share of all CPU ticks between the two readings that the host stole; None when unknown."""
    if before is None or after is None:
        return None
    total = after.total - before.total
    if total <= 0:
        return None
    return max(0, after.steal - before.steal) / total
