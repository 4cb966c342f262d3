"""rlimit.py MEGABYTES SECONDS CMD ARGS...: runs CMD with its address space
limited to MEGABYTES and its CPU time to SECONDS; exits with CMD's status
(128 + signal if it was killed), so a test can bound a compiler's memory."""
import resource
import subprocess
import sys

mb, secs, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]


def limit():
    resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))
    resource.setrlimit(resource.RLIMIT_CPU, (secs, secs))


r = subprocess.run(cmd, preexec_fn=limit)
sys.exit(r.returncode if r.returncode >= 0 else 128 - r.returncode)
