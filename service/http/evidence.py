"""The headers of a case's evidence (a document or a face image) wherever an operator opens it: the
operator API (service.documents.routes, service.face.routes) and the console's viewer
(service.console.routes) answer with these same headers, from this one place.

Evidence is personal data shown to one operator: never stored by a cache; never active content (the
sandbox gives a file rendered on its own an opaque origin without scripts; nosniff, on every response
through service.http.context, keeps it the type it was screened as); embeddable only by pages of this
origin; and a link from it tells no other site where it was.
"""

from __future__ import annotations

EVIDENCE_HEADERS = {
    "content-security-policy": "default-src 'none'; sandbox",
    "cache-control": "no-store",
    "cross-origin-resource-policy": "same-origin",
    "referrer-policy": "same-origin",
}
