"""Pure rules of the registration service: code tables, the form, the application state machine,
campaigns, eligibility, the exam roster import and registration numbers.

No nameko, no eventlet, no I/O here: every function takes `now`/`today` as an argument.
"""
