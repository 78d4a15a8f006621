"""FHIR's `htmlChecks()` for narrative: the XHTML subset FHIR allows, with some text in it."""

from __future__ import annotations

from functools import lru_cache

from lxml import etree

XHTML = "http://www.w3.org/1999/xhtml"

# FHIR R4 narrative.html: the basic formatting elements of HTML 4.0 chapters 7-11 and 15,
# <a> (name or href), images and internally contained style attributes.
ALLOWED_ELEMENTS = frozenset(
    [
        "a",
        "abbr",
        "acronym",
        "b",
        "big",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "q",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "tt",
        "ul",
        "var",
    ]
)
ALLOWED_ATTRIBUTES = frozenset(
    [
        "title",
        "style",
        "class",
        "id",
        "lang",
        "xml:lang",
        "dir",
        "accesskey",
        "tabindex",
        "href",
        "name",
        "src",
        "alt",
        "width",
        "height",
        "border",
        "cellpadding",
        "cellspacing",
        "colspan",
        "rowspan",
        "align",
        "valign",
        "span",
        "summary",
        "abbr",
        "headers",
        "scope",
        "axis",
        "char",
        "charoff",
        "frame",
        "rules",
        "start",
        "type",
        "value",
        "compact",
    ]
)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _attribute_name(name: str) -> str:
    return (
        "xml:" + _local(name) if name.startswith("{http://www.w3.org/XML/1998/namespace}") else name
    )


def _element_problem(element: etree._Element) -> str | None:
    tag = str(element.tag)
    if not tag.startswith(f"{{{XHTML}}}") or _local(tag) not in ALLOWED_ELEMENTS:
        return f"element <{_local(tag)}> is not allowed in narrative"
    for name, value in element.attrib.items():
        attribute = _attribute_name(str(name))
        if attribute not in ALLOWED_ATTRIBUTES:
            return f"attribute {attribute} on <{_local(tag)}> is not allowed in narrative"
        if attribute in ("href", "src") and str(value).strip().lower().startswith("javascript:"):
            return "script links are not allowed in narrative"
    return None


def _parsed(div: str) -> etree._Element | str:
    """The narrative's root element, or why it is not a <div> of well-formed XHTML."""
    try:
        root = etree.fromstring(div.encode(), _PARSER)
    except etree.XMLSyntaxError as error:
        return f"not well-formed XHTML: {error}"
    if root.tag != f"{{{XHTML}}}div":
        return "the narrative must be a <div> in the XHTML namespace"
    return root


@lru_cache(maxsize=1024)
def html_problem(div: str) -> str | None:
    """Why `div` is not acceptable FHIR narrative, or None (txt-1 and txt-2 both ask)."""
    root = _parsed(div)
    if isinstance(root, str):
        return root
    for element in root.iter():
        problem = _element_problem(element) if isinstance(element.tag, str) else None
        if problem:
            return problem  # comments and processing instructions are skipped above
    text = "".join(root.itertext()).strip()
    if not text and root.find(f".//{{{XHTML}}}img") is None:
        return "the narrative has no content"
    return None
