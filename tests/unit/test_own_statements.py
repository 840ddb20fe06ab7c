"""Which statements the database views mark as the console's own, as the servers give them."""

from __future__ import annotations

from services.collectors.database import is_own_statement


def test_the_tag_and_the_alias_mark_the_consoles_statements_and_nothing_else() -> None:
    # pg_stat_statements keeps the leading comment; MySQL's digest keeps identifiers only
    assert is_own_statement("/* backroom */ SELECT pid, usename FROM pg_stat_activity")
    assert is_own_statement("SELECT ID , USER FROM `information_schema` . `PROCESSLIST` "
                            "`backroom_own` WHERE ID != `CONNECTION_ID` ( )")
    assert not is_own_statement("SELECT `guests` FROM `bookings` WHERE ID = ?")
    assert not is_own_statement("SELECT 1 /* backroom */")  # a shop's comment mid-statement
