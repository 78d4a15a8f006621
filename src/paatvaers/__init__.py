"""På Tværs – Børn & Unge: the professionals around a child, across sectors."""

__version__ = "0.1.0"
