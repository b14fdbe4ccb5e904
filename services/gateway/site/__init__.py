"""The web pages, rendered on the server (they work without JavaScript; static/site.js enhances them).

- `render` — the Jinja environment, labels from the code tables, security headers
- `handler` — the `@page` entrypoint: redirects, error pages, no traceback for a refusal
- `forms` — HTML form fields ⇄ the API's JSON, errors per field
- `base` — what every page needs: who is logged in, CSRF, login redirects
- `applicant`, `review`, `admin` — the routes of each role (mixins of GatewayService)
- `staff_signin` — staff login: the password, then TOTP (enrolment with a QR code, recovery codes)
"""
