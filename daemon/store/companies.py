"""Companies derived from work domains (free-mail domains never make a company)."""

from __future__ import annotations

from loggbok.daemon.store.db import Transaction

FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.se",
        "live.com",
        "live.se",
        "msn.com",
        "yahoo.com",
        "yahoo.se",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "t-online.de",
        "mail.ru",
        "yandex.ru",
        "telia.com",
        "bredband.net",
        "comhem.se",
        "fastmail.com",
    }
)


def company_name(domain: str) -> str:
    label = domain.split(".")[-2] if domain.count(".") >= 1 else domain
    return " ".join(part.capitalize() for part in label.replace("_", "-").split("-") if part)


async def company_for(tx: Transaction, email: str) -> int | None:
    """The company of a work address, created on first sight; None for free mail."""
    domain = email.rpartition("@")[2].lower()
    if not domain or domain in FREE_MAIL_DOMAINS:
        return None
    await tx.execute(
        "INSERT OR IGNORE INTO companies (name, domain) VALUES (?, ?)",
        (company_name(domain), domain),
    )
    value = await tx.fetchval("SELECT id FROM companies WHERE domain = ?", (domain,))
    return int(value)
