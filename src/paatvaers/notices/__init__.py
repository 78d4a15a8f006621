"""Involvement notices (issue #7): when a new actor becomes involved with a child, the
professionals already involved who opted in are told, as far as each may see it.

`detection` finds the changes when involvement is rebuilt (a transactional outbox),
`revealing` decides per recipient, through the access engine, what a change may show,
`job` turns changes into grouped notices, `inbox` shows them, `digest` e-mails a count.
See docs/notices.md."""
