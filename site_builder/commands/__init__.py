"""Commands that live in their own modules; each has `add_parser(subparsers)`.

`cli.py` finds them by name (publish, release, notify, verify) and wires them in.
"""
