"""Analysis of outcome records: KPIs and their summaries."""
