"""Checks a memory plan printed by `convc --emit=ir` (read from stdin): offsets
are multiples of 16 floats, every tensor lies inside the arena, and no two
tensors whose lifetimes overlap share a float. A view (`view=tN+off`, a
channel slice of a concat's tensor written in place) is checked against its
root instead: inside it, 16-float aligned, disjoint from the root's other
written views, and within the root's lifetime. Independent of ir/memory.c."""
import re
import sys

arena, tensors, views, by_index = None, [], [], {}
for line in sys.stdin:
    m = re.match(r"network \S+\s+arena=(\d+) floats", line)
    if m:
        arena = int(m.group(1))
    m = re.match(r"tensor t(\d+) (\S+) \[([\d, ]+)\] .*? bytes=(\d+) offset=(\d+) live=(-?\d+)\.\.(-?\d+)", line)
    if m:
        size = int(m.group(4)) // 4  # blocked tensors: channels padded to the block
        off = int(m.group(5))
        t = (int(m.group(6)), int(m.group(7)), off, off + size, m.group(2))
        by_index[int(m.group(1))] = t
        v = re.search(r" view=t(\d+)\+(\d+)$", line.rstrip())
        if v:
            views.append((t, int(v.group(1)), int(v.group(2))))
        else:
            tensors.append(t)
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
slices = {}
for (d, last, lo, hi, name), root, off in views:
    rd, rlast, rlo, rhi, rname = by_index[root]
    assert lo == rlo and off % 16 == 0 and off + (hi - lo) <= rhi - rlo, f"view {name} +{off} outside {rname}"
    assert (d < 0 or rd <= d) and rlast >= max(last, d), f"view {name} live {d}..{last} outside {rname} {rd}..{rlast}"
    if d < 0:
        continue  # an inner concat's output in a tree of concats: no writer, its views hold it
    for o, end, other in slices.get(root, []):
        assert off + (hi - lo) <= o or end <= off, f"views {name} and {other} of {rname} overlap"
    slices.setdefault(root, []).append((off, off + hi - lo, name))
print(f"plan ok: {len(tensors)} tensors, {len(views)} views, arena {arena} floats")
