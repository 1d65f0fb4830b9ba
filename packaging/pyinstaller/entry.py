"""The bundle's executable: the GUI without arguments, every CLI command with them (``workstation.cli.main``)."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from workstation.cli import main

    sys.exit(main())
