"""``python -m chime_conformance.reporting``: the ``chime-conformance-report`` command."""

import sys

from chime_conformance.reporting.cli import main

sys.exit(main())
