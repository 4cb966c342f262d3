#!/usr/bin/python3
"""Replays a fuzz corpus through the shipped tools: every file must give one
of the documented exit codes, and nothing may crash or be reported by a
sanitizer (in the ASan+UBSan build, whose exit code 1 would otherwise look
like a source error).

  replay.py CODES DIR -- CMD ARGS...   (@FILE in ARGS is replaced by each file)

CODES is a comma-separated list of allowed exit codes. Prints one line per
file that fails, then "replay ok: N files" or "replay FAILED: K of N files".
"""
import os
import subprocess
import sys

SANITIZER = ('Sanitizer', 'runtime error:')


def main():
    split = sys.argv.index('--')
    codes = {int(c) for c in sys.argv[1].split(',')}
    folder, cmd = sys.argv[2], sys.argv[split + 1:]
    files = sorted(os.listdir(folder))
    bad = 0
    for name in files:
        path = os.path.join(folder, name)
        args = [a.replace('@FILE', path) for a in cmd]
        r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
        err = r.stderr.decode(errors='replace')
        if r.returncode not in codes or any(s in err for s in SANITIZER):
            bad += 1
            print('%s: exit code %d\n%s' % (name, r.returncode, err[-2000:]))
    if bad:
        print('replay FAILED: %d of %d files' % (bad, len(files)))
        sys.exit(1)
    print('replay ok: %d files' % len(files))


if __name__ == '__main__':
    main()
