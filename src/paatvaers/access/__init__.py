"""Who may see what: identities, relationships derived from data, policies per data flow
read from a reviewable file, consent, decisions that explain themselves, and the access log."""
