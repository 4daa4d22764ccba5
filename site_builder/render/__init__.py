"""Rendering: the catalogue turned into site files, with no I/O.

`machine.py` writes the formats scripts read; `pages.py` writes what people read.
"""
