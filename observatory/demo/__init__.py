"""`observatory demo`: generated screenshots (drawn here, no third-party images) for a first look."""
