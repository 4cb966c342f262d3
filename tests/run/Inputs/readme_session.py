#!/usr/bin/python3
"""Runs the README's "A whole session" section as written.

The section's fenced code blocks are taken out of README.md in order: the
plain block that declares a network becomes tiny.conv, the python block that
starts with '# tiny.py' becomes tiny.py, and every line of the sh blocks is
run with bash in a fresh directory (backslash continuations joined) where
`tools/` points at the repository's tools. convc must be on PATH. Each
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

with tempfile.TemporaryDirectory() as tmp:
    os.symlink(os.path.join(root, 'tools'), os.path.join(tmp, 'tools'))
    for lang, text in blocks:
        if lang == '' and 'network ' in text:
            open(os.path.join(tmp, 'tiny.conv'), 'w').write(text)
        elif lang == 'python' and text.startswith('# tiny.py'):
            open(os.path.join(tmp, 'tiny.py'), 'w').write(text)
        elif lang == 'sh':
            for cmd in text.replace('\\\n', ' ').splitlines():
                cmd = cmd.strip()
                if not cmd:
                    continue
                print('$ ' + cmd, flush=True)
                r = subprocess.run(['bash', '-c', cmd], cwd=tmp)
                if r.returncode:
                    print('command failed with exit status %d' % r.returncode)
                    sys.exit(r.returncode)
print('session ok')
