"""What every API and page request goes through before its route: a NUL character anywhere in its
path or query is refused (no database stores one; PostgreSQL would answer with an error), and every
answer is counted for the 5xx-rate alert."""
import logging

from nameko.web.handlers import HttpRequestHandler

from services.common.validation import refuse_nul
from services.contracts.errors import DomainError

from . import http_metrics

log = logging.getLogger("services.gateway")


class EdgeHandler(HttpRequestHandler):
    def refused(self, exc, request):
        """The answer to a refusal at the edge, in the route's own kind (JSON or a page)."""
        raise NotImplementedError

    def handle_request(self, request):
        try:
            refuse_nul({"path": request.path, **request.args.to_dict()})
        except DomainError as exc:
            log.warning("refused %s %s (%s): %s", request.method, request.path.replace("\x00", "\\0"),
                        exc.http_status, exc.message)
            response = self.refused(exc, request)
        else:
            response = super().handle_request(request)
        http_metrics.record(request.method, response.status_code)
        return response
