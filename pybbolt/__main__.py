"""``python -m pybbolt``: the same as the ``pybbolt`` command."""

import sys

from pybbolt.cli.main import main

sys.exit(main())
