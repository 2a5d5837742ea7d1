"""`python -m async_actions.lint PATH...`"""

import sys

from async_actions.lint.cli import main

sys.exit(main(prog="python -m async_actions.lint"))
