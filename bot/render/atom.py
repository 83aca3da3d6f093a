"""The record as an Atom 1.0 feed (RFC 4287), for other newsrooms' tools to follow.

Each incident is one entry whose id never changes (it is built from the incident's
external id, which survives export and import); its `updated` is the time of its
latest change, so a correction or a retraction reaches feed readers as an updated
entry, and a retracted one says so in its title and content.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from urllib.parse import quote
from xml.etree import ElementTree

from bot.models import Incident
from bot.render.incidents import incident_card, place_of

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
ATOM_CONTENT_TYPE = "application/atom+xml; charset=utf-8"
# Tag URIs (RFC 4151): unique without owning a domain, and stable.
_TAG = "tag:incident-bot,2024:"


def entry_id(incident: Incident) -> str:
    external = incident.external_id or f"incident-{incident.id}"
    return _TAG + "incident:" + quote(external, safe="-._~:@!$&'()*+,;=")


def atom_feed(
    incidents: Sequence[Incident],
    *,
    title: str,
    self_url: str | None,
    now: datetime,
    zone: tzinfo,
) -> bytes:
    ElementTree.register_namespace("", ATOM_NAMESPACE)
    feed = ElementTree.Element(_name("feed"))
    _text(feed, "id", self_url or _TAG + "record")
    _text(feed, "title", title)
    newest = max((incident.updated_at for incident in incidents), default=now)
    _text(feed, "updated", _stamp(newest))
    author = ElementTree.SubElement(feed, _name("author"))
    _text(author, "name", "incident-bot")
    _text(feed, "generator", "incident-bot")
    if self_url:
        _link(feed, self_url, rel="self", kind="application/atom+xml")
    for incident in incidents:
        feed.append(_entry(incident, zone))
    ElementTree.indent(feed)
    body: bytes = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def _entry(incident: Incident, zone: tzinfo) -> ElementTree.Element:
    entry = ElementTree.Element(_name("entry"))
    _text(entry, "id", entry_id(incident))
    title = f"Retracted: {incident.title}" if incident.is_retracted else incident.title
    _text(entry, "title", title)
    _text(entry, "published", _stamp(incident.created_at))
    _text(entry, "updated", _stamp(incident.updated_at))
    summary = f"{place_of(incident)} · {incident.event_type}"
    if incident.is_retracted:
        summary = f"Retracted: {incident.retraction_reason or 'no reason given'}. {summary}"
    _text(entry, "summary", summary)
    content = _text(entry, "content", incident_card(incident, zone).replace("\n", "<br/>\n"))
    content.set("type", "html")
    for source in incident.sources:
        if source.url is not None:
            _link(entry, str(source.url), rel="related", kind=None, title=source.name)
    for term in (incident.country, incident.event_type):
        ElementTree.SubElement(entry, _name("category"), term=term)
    return entry


def _name(tag: str) -> str:
    return f"{{{ATOM_NAMESPACE}}}{tag}"


def _text(parent: ElementTree.Element, tag: str, text: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, _name(tag))
    element.text = text
    return element


def _link(
    parent: ElementTree.Element,
    href: str,
    *,
    rel: str,
    kind: str | None,
    title: str | None = None,
) -> None:
    link = ElementTree.SubElement(parent, _name("link"), href=href, rel=rel)
    if kind:
        link.set("type", kind)
    if title:
        link.set("title", title)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
