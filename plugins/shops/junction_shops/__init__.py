"""Shop formats for Junction: every platform's order read into one canonical order."""
