"""Junction's amoCRM (and Kommo) plugin."""
