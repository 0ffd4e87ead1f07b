"""``python -m seqlab`` runs the command-line interface."""

from seqlab.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
