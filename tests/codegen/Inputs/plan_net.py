"""Writes a .conv network that stresses the memory planner (see ir_memory_plan_many.test).

plan_net.py branches N: N relu branches of one input, all live until one concat
                        (9 floats each: not 16-float aligned slices, so the concat
                        copies and every branch is a tensor of its own).
plan_net.py mixed N:    N branches of three sizes that each die at once after a
                        global_avgpool, leaving gaps of every size in the arena.
"""
import sys

kind, n = sys.argv[1], int(sys.argv[2])
lines = ["network n {", "    input x[1, 3, 3]" if kind == "branches" else "    input x[1, 4, 4]"]
if kind == "branches":
    lines += [f"    b{i} = relu(x)" for i in range(n)]
else:
    for i in range(n):
        lines.append(f"    u{i} = upsample(x, {1 + i % 3})")
        lines.append(f"    b{i} = global_avgpool(u{i})")
lines.append("    c = concat(" + ", ".join(f"b{i}" for i in range(n)) + ")")
lines += ["    output c", "}"]
print("\n".join(lines))
