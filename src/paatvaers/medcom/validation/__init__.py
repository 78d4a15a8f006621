"""Validation of MedCom FHIR messages against the published MedCom conformance resources.

`validate_bundle(bundle)` takes the JSON (dict) form of a message Bundle and returns a
`ValidationReport` whose issues name the path and the rule. See docs/medcom.md.
"""

from paatvaers.medcom.validation.issues import Issue, Severity, ValidationReport
from paatvaers.medcom.validation.message import validate_bundle

__all__ = ["Issue", "Severity", "ValidationReport", "validate_bundle"]
