"""The platform every service stands on. It imports no service's code (tests/unit/test_architecture.py);
what it knows of the services is the shared contracts (services/contracts: the event catalogue, who
subscribes to what, roles, errors)."""
