"""The echo plugin: records every event it receives, for checking a set-up end to end."""
