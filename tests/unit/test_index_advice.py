"""console.index_advice: CREATE INDEX CONCURRENTLY to copy, a trigram index for '%x%' searches."""

from __future__ import annotations

import pytest

from console.index_advice import index_advice


@pytest.mark.parametrize("query", [
    "SELECT id FROM bookings WHERE customer_name ILIKE '%ada%'",
    "SELECT id FROM bookings WHERE customer_name ILIKE $1 ORDER BY id LIMIT $2",
    "SELECT id FROM bookings b WHERE b.customer_name LIKE '%' || $1 || '%'",
    "select id from bookings where lower(customer_name) like '%ada'",
])
def test_a_wildcard_search_wants_a_trigram_index(query: str) -> None:
    advice = index_advice(query)
    assert advice is not None and advice.trigram
    assert advice.sql == ("CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
                          "CREATE INDEX CONCURRENTLY ix_bookings_customer_name_trgm "
                          "ON bookings USING gin (customer_name gin_trgm_ops);")
    assert "trigram" in advice.why


def test_a_fixed_prefix_like_uses_a_btree_with_pattern_ops() -> None:
    advice = index_advice("SELECT id FROM products WHERE name LIKE 'Cof%'")
    assert advice is not None and not advice.trigram
    assert advice.sql == ("CREATE INDEX CONCURRENTLY ix_products_name_prefix ON products "
                          "(name text_pattern_ops);")


def test_equalities_then_one_range_concurrently() -> None:
    advice = index_advice("SELECT id, total_cents FROM orders WHERE placed_at >= $1 AND "
                          "status = $2 ORDER BY placed_at DESC LIMIT $3")
    assert advice is not None
    assert advice.sql == ("CREATE INDEX CONCURRENTLY ix_orders_status_placed_at ON orders "
                          "(status, placed_at);")


@pytest.mark.parametrize("query", ["SELECT 1", "BEGIN", "SELECT * FROM pg_stat_activity "
                                   "WHERE state = $1", "SELECT count(*) FROM bookings"])
def test_nothing_to_advise(query: str) -> None:
    assert index_advice(query) is None
