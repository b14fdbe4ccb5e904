"""The platform every service stands on. It knows nothing of any one service."""
