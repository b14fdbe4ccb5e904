"""Pure rules of the notify service: templates, quiet hours, retries, the delivery record.

No nameko, no eventlet, no network: everything takes `now` as an argument.
"""
