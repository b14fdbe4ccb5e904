"""Operations commands for IT ops: `python -m services.ops backup|restore|rotate-keys` (docs/operations.md)."""
