"""Operations commands for IT ops: `python -m services.ops backup|restore|trail|rotate-keys|reindex` (docs/operations.md)."""
