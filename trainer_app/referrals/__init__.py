"""Referral letters: a one-page PDF the client takes to their doctor after a red flag."""
