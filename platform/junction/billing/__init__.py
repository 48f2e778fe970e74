"""Billing: plans, Stripe subscriptions, and the quotas that pause work (never drop it)."""
