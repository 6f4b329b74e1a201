"""What a run will need against what the machine has: its memory, estimated before anything is built,
so that a run that cannot fit is refused at once with the figures instead of failing with MemoryError
after minutes of work.
"""
from __future__ import annotations

import os
from typing import Optional

GiB = 1 << 30


def machine_memory() -> Optional[int]:
    """Bytes of memory this machine has (MemTotal, or the pages the system reports); None if unknown.
    A cgroup limit below it (containers) wins."""
    total = None
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f.read(1 << 16).decode("ascii", "replace").splitlines():
                if line.startswith("MemTotal:"):
                    total = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if total is None:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            return None
    try:
        with open("/sys/fs/cgroup/memory.max", "rb") as f:
            limit = f.read(64).strip()
        if limit.isdigit() and 0 < int(limit) < total:
            total = int(limit)
    except OSError:
        pass
    return total
