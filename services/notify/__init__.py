"""The notify service: SMS and email from Chinese templates, delivered once, retried with care."""
