"""``python -m automl_nb``: the command line (:mod:`automl_nb.ui.cli`)."""

import sys

from .ui.cli import main

if __name__ == "__main__":
    sys.exit(main())
