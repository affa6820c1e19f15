"""``python -m pybbolt``: the same as the ``pybbolt`` command (``python -m pybbolt.cli``)."""

import runpy

runpy.run_module("pybbolt.cli", run_name="__main__", alter_sys=True)
