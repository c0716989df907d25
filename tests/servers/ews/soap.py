"""SOAP for the EWS test server: the response templates in `templates/` (each
cites the learn.microsoft.com page it follows in its first line, which is
dropped when filled) and reading the parts of a request the server acts on.

`fill(name, **values)` escapes plain strings; an XML fragment goes in as `Raw`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

TEMPLATES = Path(__file__).with_name("templates")
S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
A = "http://schemas.microsoft.com/exchange/2010/Autodiscover"


class Raw(str):
    """An XML fragment: put in as it is."""


@cache
def template(name: str) -> str:
    text = (TEMPLATES / f"{name}.xml").read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    assert first.startswith("<!-- https://learn.microsoft.com/"), name
    return rest.strip()


def fill(_template: str, /, **values: object) -> Raw:
    text = template(_template)
    for key, value in values.items():
        text = text.replace(
            "{" + key + "}",
            value if isinstance(value, Raw) else escape(str(value), {'"': "&quot;"}),
        )
    return Raw(text)


def envelope(body: str) -> bytes:
    return fill("envelope", body=Raw(body)).encode()


def parse(data: bytes) -> etree._Element:
    """The first element in the SOAP body (the operation)."""
    root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))
    body = root.find(f"{{{S}}}Body")
    if body is None or len(body) == 0:
        raise ValueError("no SOAP body")
    return body[0]


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def folder_refs(element: etree._Element | None) -> list[str]:
    """The folder ids or distinguished ids named under `element`, in order."""
    if element is None:
        return []
    found = []
    for child in element.iter(f"{{{T}}}FolderId", f"{{{T}}}DistinguishedFolderId"):
        found.append(str(child.get("Id", "")))
    return found


def field_uris(shape: etree._Element | None) -> tuple[str, set[str]]:
    """The ItemShape's BaseShape and the FieldURIs of its AdditionalProperties."""
    if shape is None:
        return "IdOnly", set()
    base = shape.findtext(f"{{{T}}}BaseShape") or "IdOnly"
    uris = {str(f.get("FieldURI")) for f in shape.iter(f"{{{T}}}FieldURI")}
    return base, uris
