"""Checks a memory plan printed by `convc --emit=ir` (read from stdin): offsets
are multiples of 16 floats, every tensor lies inside the arena, and no two
tensors whose lifetimes overlap share a float. Independent of ir/memory.c."""
import re
import sys

arena, tensors = None, []
for line in sys.stdin:
    m = re.match(r"network \S+\s+arena=(\d+) floats", line)
    if m:
        arena = int(m.group(1))
    m = re.match(r"tensor t\d+ (\S+) \[([\d, ]+)\] .*? offset=(\d+) live=(-?\d+)\.\.(-?\d+)", line)
    if m:
        size = 1
        for d in m.group(2).split(","):
            size *= int(d)
        off = int(m.group(3))
        tensors.append((int(m.group(4)), int(m.group(5)), off, off + size, m.group(1)))
assert arena is not None and tensors, "no plan in the input"
# sweep over definition times: tensors still live when another is defined must not overlap it
tensors.sort()
active = []
for t in tensors:
    d, last, lo, hi, name = t
    assert lo % 16 == 0 and hi <= arena, f"{name} [{lo}, {hi}) outside the arena of {arena} or unaligned"
    active = [a for a in active if a[1] >= d]
    for a in active:
        assert hi <= a[2] or a[3] <= lo, f"{name} [{lo}, {hi}) overlaps {a[4]} [{a[2]}, {a[3]}) while both are live"
    active.append(t)
print(f"plan ok: {len(tensors)} tensors, arena {arena} floats")
