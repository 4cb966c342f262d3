"""The lit test format of convc's tests (lit.cfg.py)."""
import glob
import os
import shutil

import lit.formats
import lit.Test
import lit.TestRunner


class ShTestCleaned(lit.formats.ShTest):
    """ShTest that deletes a passing test's temporary files (%t and every
    path that starts with it) when it finishes. A full run left about 5 GB
    per build tree (UNet executables, weights and outputs of every target
    and thread count), 10 GB for `make check`, which is more than some
    machines have free. A failing test keeps its files, to look at; lit
    --param keep=1 keeps everything. Nothing outside the test's Output
    directory is touched, and a symlink there is removed, never followed."""

    def execute(self, test, lit_config):
        result = super().execute(test, lit_config)
        if result.code == lit.Test.PASS and not lit_config.params.get('keep'):
            _, base = lit.TestRunner.getTempPaths(test)
            for path in glob.glob(glob.escape(base + '.tmp') + '*'):
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    try:
                        os.unlink(path)
                    except OSError:
                        pass
        return result
