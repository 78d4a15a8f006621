"""Digitalt Samtykke (the national consent service): consents and objections per template,
about a child, by a custody holder or the child, with their history. Unlike the other sources
it is not ingested: the platform asks it on every decision, so a withdrawal takes effect on
the very next request. Our JSON shape; see docs/sources/consent.md."""
