"""One module per page of the console's navigation rail."""
