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


def work_domain(email: str) -> str | None:
    """The domain of a work address; None for free mail or no domain."""
    domain = email.rpartition("@")[2].lower()
    return None if not domain or domain in FREE_MAIL_DOMAINS else domain


async def companies_for(tx: Transaction, emails: list[str]) -> dict[str, int]:
    """Company ids of many work addresses at once (two statements), created on first
    sight; free-mail addresses are left out."""
    domains = {email: d for email in emails if (d := work_domain(email)) is not None}
    unique = sorted(set(domains.values()))
    if not unique:
        return {}
    await tx.executemany(
        "INSERT INTO companies (name, domain) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(company_name(d), d) for d in unique],
    )
    ids: dict[str, int] = {}
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows = await tx.fetchall(
            f"SELECT domain, id FROM companies WHERE domain IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        ids.update({row[0]: int(row[1]) for row in rows})
    return {email: ids[d] for email, d in domains.items()}


async def company_for(tx: Transaction, email: str) -> int | None:
    """The company of a work address, created on first sight; None for free mail."""
    return (await companies_for(tx, [email])).get(email)
