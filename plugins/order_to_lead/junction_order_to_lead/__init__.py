"""Order to lead: each shop order becomes an amoCRM lead on the partner's contact."""
