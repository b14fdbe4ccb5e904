"""The wiring of the system: which service consumes which event.

Every service declares all of these queues when it starts (services.common.providers.Database),
so an event published before its consumer first ran is kept, not dropped. A test checks this
table against the @subscribe entrypoints of the service classes.
"""

# (consuming service, source service, event type)
SUBSCRIPTIONS = [
    ("review", "registration", "ApplicationSubmitted"),
    ("registration", "review", "ReviewCompleted"),
    ("notify", "identity", "AccountRegistered"),
    ("notify", "registration", "ApplicationSubmitted"),
    ("notify", "review", "ReviewCompleted"),
    ("notify", "registration", "RegistrationCompleted"),
    ("notify", "registration", "CertificateDispatched"),
]
