"""``python -m turnout``: see `turnout._cli`."""

import sys

from turnout._cli import main

sys.exit(main())
