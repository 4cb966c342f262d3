"""oom_sweep.py STEP_MB CMD ARGS...: runs CMD under address-space limits from
the least at which the program loads at all (found with `CMD --version`) up
to the first that succeeds, STEP_MB apart, and checks that every run either
succeeds or fails with exit status 3 and a "convc: out of ..." message,
never a crash (a signal) or another status; "convc: ... out of ...". Prints one summary line."""
import resource
import subprocess
import sys

step, cmd = int(sys.argv[1]), sys.argv[2:]


def run(mb, args):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))
    return subprocess.run(args, preexec_fn=limit, capture_output=True, text=True)


lo, hi = 16, 4096                  # the least limit at which --version runs
while lo < hi:
    mid = (lo + hi) // 2
    if run(mid, [cmd[0], '--version']).returncode == 0:
        hi = mid
    else:
        lo = mid + 1
failed = 0
for mb in range(lo, 4096, step):
    r = run(mb, cmd)
    if r.returncode == 0:
        print(f"ok: {failed} runs out of memory with a clear error, then success at {mb} MB")
        sys.exit(0)
    if r.returncode != 3 or not r.stderr.startswith('convc: ') or 'out of' not in r.stderr:
        print(f"FAILED at {mb} MB: exit status {r.returncode}, stderr {r.stderr[:200]!r}")
        sys.exit(1)
    failed += 1
print("FAILED: no success within 4 GB")
sys.exit(1)
