import sys

from tiles_edge.cli import main

sys.exit(main())
