"""``python -m pybbolt``: the same as the ``pybbolt`` command.

The front end is installed as ``pybbolt.cli`` (from the repository's ``cli/``
folder), so it is looked up by name rather than imported from this layer.
"""

import sys
from importlib import import_module

sys.exit(import_module("pybbolt.cli.main").main())
