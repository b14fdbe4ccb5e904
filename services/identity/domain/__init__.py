"""Pure rules of the identity service: no nameko, no eventlet, no I/O; time comes in as `now`."""
