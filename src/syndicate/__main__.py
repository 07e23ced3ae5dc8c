"""``python -m syndicate``: the same commands as ``syndicate``."""

from syndicate.cli import main

if __name__ == "__main__":
    main(prog_name="syndicate")
