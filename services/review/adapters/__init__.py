"""The outside world of the review service: the encrypted image store on disk."""
