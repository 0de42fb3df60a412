"""`python -m reference_impls ...`: see cli.py."""

from .cli import main

raise SystemExit(main())
