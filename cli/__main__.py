"""``python -m pybbolt.cli``: the same as the ``pybbolt`` command."""

import sys

from .main import main

sys.exit(main())
