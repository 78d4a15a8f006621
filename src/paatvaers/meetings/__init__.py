"""Cross-disciplinary meetings (issue #7): proposing the participants from the data, calling
the meeting, invitations whose content each recipient's own access decisions filter, answers
(in the platform, or as MedCom replies), the agenda and minutes, and `.ics` calendar files."""
