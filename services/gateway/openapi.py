"""OpenAPI 3 document of the HTTP API, generated from the routes and marshmallow schemas (apispec)."""
import re
from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from . import schemas
from .web import ROUTES

_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


@lru_cache(maxsize=1)
def document():
    spec = APISpec(title="社会工作者职业水平证书登记 API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "错误统一为 {\"error\": {\"code\", \"message\", \"details\"}}，message 为中文。"})
    spec.components.schema("ErrorBody", schema=schemas.ErrorBody)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("cookie", {"type": "apiKey", "in": "cookie", "name": "sid"})
    paths = {}
    for method, path, options in ROUTES:
        if "<path:" in path:
            continue
        openapi_path = _PARAM.sub(r"{\1}", path)
        for verb in method.split(","):
            paths.setdefault(openapi_path, {})[verb.lower()] = _operation(path, options)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(path, options):
    status = str(options.get("status") or 200)
    op = {"summary": options.get("summary", ""), "tags": list(options.get("tags") or []),
          "responses": {status: {"description": "成功"},
                        "default": {"description": "错误（中文说明）",
                                    "content": {"application/json": {"schema": "ErrorBody"}}}}}
    if options.get("response"):
        op["responses"][status]["content"] = {"application/json": {"schema": options["response"]}}
    if options.get("body"):
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": options["body"]}}}
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in _PARAM.findall(path)]
    if params:
        op["parameters"] = params
    if options.get("roles"):
        op["description"] = "需要角色：" + "、".join(options["roles"])
    return op
