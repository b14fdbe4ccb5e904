"""The registration service's outside world: peer services by RPC, spreadsheet files."""
