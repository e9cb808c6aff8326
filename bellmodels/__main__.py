"""``python -m bellmodels``: the ``bellmodels`` command (:func:`bellmodels.cli.main`).

Useful where the console script is not on ``PATH`` (a venv not activated, a notebook's kernel)
and to be sure which interpreter's bellmodels runs::

    python -m bellmodels datasets list
"""

import sys

from bellmodels.cli import main

if __name__ == "__main__":
    sys.exit(main())
