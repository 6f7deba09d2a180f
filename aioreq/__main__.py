"""`python -m aioreq`: the command line of `aioreq._cli` (a bare one runs the demo)."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
