"""The family's view (issue #9): what a custody holder or a young person sees about the child.

A citizen is not a professional: nothing here goes through the professionals' data flows.
Which children a citizen may see, and what is withheld from whom, is decided by the citizen
rules of the policy (`access/policies/family.toml`, read by `policy.py`); every page the
family sees is logged as the family's own view, so "who has looked" can leave it out and an
auditor can still see it.
"""
