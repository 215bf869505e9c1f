"""Progress: the client's personal link, logged sessions and pain, adherence and attention."""
