#!/usr/bin/python3
"""Runs the README's "A whole session" section as written.

The section's fenced code blocks are taken out of README.md in order: the
plain block that declares a network becomes tiny.conv, a python block that
starts with '# NAME.py' becomes NAME.py, and every line of the sh blocks is
run with bash in a fresh directory (backslash continuations joined) where
`tools/` points at the repository's tools. convc must be on PATH; the
repository's python/ is put on PYTHONPATH (where cmake --install puts convc.py). Each
command's output is echoed under a '$ command' line; the first failing
command stops the run with its exit status.
"""
import os
import re
import subprocess
import sys
import tempfile

root = sys.argv[1]
readme = open(os.path.join(root, 'README.md')).read()
section = readme.split('## A whole session', 1)[1].split('\n## ', 1)[0]
blocks = re.findall(r'```(\w*)\n(.*?)```', section, re.S)

env = dict(os.environ, PYTHONPATH=os.path.join(root, 'python'))
with tempfile.TemporaryDirectory() as tmp:
    os.symlink(os.path.join(root, 'tools'), os.path.join(tmp, 'tools'))
    for lang, text in blocks:
        if lang == '' and 'network ' in text:
            open(os.path.join(tmp, 'tiny.conv'), 'w').write(text)
        elif lang == 'python' and re.match(r'# (\w+\.py)\n', text):
            open(os.path.join(tmp, re.match(r'# (\w+\.py)', text).group(1)), 'w').write(text)
        elif lang == 'sh':
            for cmd in text.replace('\\\n', ' ').splitlines():
                cmd = cmd.strip()
                if not cmd:
                    continue
                print('$ ' + cmd, flush=True)
                r = subprocess.run(['bash', '-c', cmd], cwd=tmp, env=env)
                if r.returncode:
                    print('command failed with exit status %d' % r.returncode)
                    sys.exit(r.returncode)
print('session ok')
