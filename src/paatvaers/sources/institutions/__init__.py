"""STIL: the institution register (Institutionsregisteret) and the children's enrollments as
Unilogin's `wsiinst` service describes them."""
