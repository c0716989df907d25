"""The search box's FTS5 query syntax as a PostgreSQL tsquery (pg_search.py)."""

from __future__ import annotations

import pytest

from loggbok.daemon.store.pg_search import QuerySyntaxError, to_tsquery, words


@pytest.mark.parametrize(
    ("query", "tsquery"),
    [
        ("offer", "offer"),
        ("Offer Q3", "( offer & q3 )"),
        ('"quarterly offer"', "( quarterly <-> offer )"),
        ("offer OR quote", "( offer | quote )"),
        ("offer NOT draft", "offer & !draft"),
        ("offer AND (quote OR bid)", "( offer & ( ( quote | bid ) ) )"),
        ("off*", "off:*"),
        ("subject:offer", "offer:A"),
        ("subject:off*", "off:*A"),
        ("{subject body}:offer", "offer:AC"),
        ("-body:offer", "offer:AB"),
        ('"anna@kund.example"', "( anna <-> kund <-> example )"),
        ("NEAR(offer quote)", "( offer & quote )"),
        ("Göran", "göran"),
    ],
)
def test_fts5_queries_become_tsqueries(query: str, tsquery: str) -> None:
    assert to_tsquery(query) == tsquery


@pytest.mark.parametrize(
    "query", ['"open', "offer AND", "(offer", "nosuch:offer", "OR x", "anna@kund.example"]
)
def test_what_fts5_refuses_is_refused(query: str) -> None:
    with pytest.raises(QuerySyntaxError):
        to_tsquery(query)


def test_words_split_as_unicode61_splits() -> None:
    assert words("Re: Offer_v2 (anna@kund.example) – Åsa") == [
        "re", "offer", "v2", "anna", "kund", "example", "åsa",
    ]  # fmt: skip


def test_every_migration_has_its_postgresql_rendering() -> None:
    from loggbok.daemon.store.migrations import MIGRATIONS
    from loggbok.daemon.store.pg_schema import PG_MIGRATIONS

    assert len(PG_MIGRATIONS) == len(MIGRATIONS)
