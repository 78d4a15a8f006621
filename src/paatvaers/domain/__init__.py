"""Pure types and rules. Imports nothing of the project outside `domain`, and does no I/O."""
