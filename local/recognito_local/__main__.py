"""``python -m recognito_local`` is the ``recognito`` command."""

import sys

from recognito_local.cli import main

sys.exit(main())
