"""`python -m client MODE [TEXT] [--form 七绝] …`: see client/cli.py."""

import sys

from client.cli import main

sys.exit(main())
