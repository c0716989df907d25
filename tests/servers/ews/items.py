"""EWS item XML from the mail store the Graph test server keeps (the same
messages, change log and ConversationIds; `tests/servers/graph/mailstore.py`):
the properties an ItemShape asks for, MimeContent only when named."""

from __future__ import annotations

import base64
from typing import Any

from tests.servers.ews.soap import Raw, fill
from tests.servers.graph.mailstore import StoredMessage, properties

ALL = {
    "item:ItemId",
    "item:ParentFolderId",
    "item:ItemClass",
    "item:Subject",
    "item:Size",
    "item:DateTimeReceived",
    "item:DateTimeSent",
    "item:InternetMessageHeaders",
    "item:ConversationId",
    "item:InReplyTo",
    "message:Sender",
    "message:From",
    "message:ToRecipients",
    "message:CcRecipients",
    "message:BccRecipients",
    "message:ReplyTo",
    "message:IsRead",
    "message:InternetMessageId",
    "message:References",
}
"""What a shape other than IdOnly sends (MimeContent only when asked for)."""


def change_key(message: StoredMessage) -> str:
    return f"CQAAABYAAAB{message.change_key:04d}"


def item_id(message: StoredMessage) -> Raw:
    return Raw(f'<t:ItemId Id="{message.id}" ChangeKey="{change_key(message)}"/>')


def _mailbox(recipient: Any) -> Raw:
    email = (recipient or {}).get("emailAddress") or {}
    return fill("mailbox", name=email.get("name") or "", address=email.get("address") or "")


def _mailboxes(tag: str, recipients: list[Any]) -> Raw:
    return Raw(f"<t:{tag}>" + "".join(_mailbox(r) for r in recipients) + f"</t:{tag}>")


def _text(tag: str, value: Any) -> Raw:
    return Raw(f"<t:{tag}>{_escape(str(value))}</t:{tag}>")


QUOTE = '"'


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def item_xml(message: StoredMessage, base: str, uris: set[str]) -> Raw:
    """The t:Message children for this shape: ItemId always, the rest as asked."""
    wanted = set(uris) | (ALL if base != "IdOnly" else set())
    parts: list[str] = []
    if "item:MimeContent" in wanted:
        mime = base64.b64encode(message.mime).decode()
        parts.append(f'<t:MimeContent CharacterSet="UTF-8">{mime}</t:MimeContent>')
    parts.append(item_id(message))
    props = properties(message)
    extended = props.get("_extended", {})
    if "item:ParentFolderId" in wanted:
        parts.append(f'<t:ParentFolderId Id="{message.folder_id}" ChangeKey="AQAAAA=="/>')
    if "item:ItemClass" in wanted:
        parts.append(_text("ItemClass", "IPM.Note"))
    if "item:Subject" in wanted:
        parts.append(_text("Subject", props["subject"]))
    if "item:Size" in wanted:
        parts.append(_text("Size", len(message.mime)))
    if "item:DateTimeReceived" in wanted:
        parts.append(_text("DateTimeReceived", props["receivedDateTime"]))
    if "item:DateTimeSent" in wanted:
        parts.append(_text("DateTimeSent", props["sentDateTime"]))
    if "item:InternetMessageHeaders" in wanted and "internetMessageHeaders" in props:
        headers = "".join(
            f'<t:InternetMessageHeader HeaderName="{_escape(h["name"]).replace(QUOTE, "&quot;")}">'
            f"{_escape(h['value'])}</t:InternetMessageHeader>"
            for h in props["internetMessageHeaders"]
        )
        parts.append(f"<t:InternetMessageHeaders>{headers}</t:InternetMessageHeaders>")
    if "item:ConversationId" in wanted:
        parts.append(f'<t:ConversationId Id="{message.conversation}"/>')
    if "item:InReplyTo" in wanted and extended.get("String 0x1042"):
        parts.append(_text("InReplyTo", extended["String 0x1042"]))
    if "message:Sender" in wanted and props.get("sender"):
        parts.append(f"<t:Sender>{_mailbox(props['sender'])}</t:Sender>")
    for uri, tag, key in (
        ("message:ToRecipients", "ToRecipients", "toRecipients"),
        ("message:CcRecipients", "CcRecipients", "ccRecipients"),
        ("message:BccRecipients", "BccRecipients", "bccRecipients"),
    ):
        if uri in wanted and props.get(key):
            parts.append(_mailboxes(tag, props[key]))
    if "message:IsRead" in wanted:
        parts.append(_text("IsRead", "true" if message.is_read else "false"))
    if "message:From" in wanted and props.get("from"):
        parts.append(f"<t:From>{_mailbox(props['from'])}</t:From>")
    if "message:InternetMessageId" in wanted and props.get("internetMessageId"):
        parts.append(_text("InternetMessageId", props["internetMessageId"]))
    if "message:References" in wanted and extended.get("String 0x1039"):
        parts.append(_text("References", extended["String 0x1039"]))
    if "message:ReplyTo" in wanted and props.get("replyTo"):
        parts.append(_mailboxes("ReplyTo", props["replyTo"]))
    return Raw("".join(parts))
