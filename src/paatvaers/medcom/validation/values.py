"""Comparing JSON values with a profile's fixed[x] and pattern[x]."""

from __future__ import annotations


def equals_fixed(expected: object, actual: object) -> bool:
    """fixed[x]: the value must be exactly the fixed one, no more and no less."""
    return bool(expected == actual)


def matches_pattern(pattern: object, actual: object) -> bool:
    """pattern[x]: every element of the pattern must be present with the same value; an array
    in the pattern needs each of its items matched by some item of the value."""
    if isinstance(pattern, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches_pattern(value, actual[key]) for key, value in pattern.items()
        )
    if isinstance(pattern, list):
        items = actual if isinstance(actual, list) else [actual]
        return all(any(matches_pattern(p, a) for a in items) for p in pattern)
    return bool(pattern == actual)
