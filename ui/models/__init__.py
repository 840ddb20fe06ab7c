"""Qt table models: the data of a table, apart from how it is drawn."""
