"""OpenAPI 3 document of the HTTP API, generated from the routes and the marshmallow schemas (apispec).

Nothing here is written per route. Each route declares once, in `@api(...)` (services/gateway/web.py):
- `roles`: who may call it — the same list `GatewayService._principal` enforces, so the document
  cannot say one thing while the code does another; no roles means a public route (`security: []`);
- `body`, `query`, `headers`: schemas from schemas.py (the route validates with the same ones),
  or a media-type map for uploads; `response` and `responses` likewise.

The application form (`FormChanges`) and the campaign request belong to registration, whose code the
gateway may not import: they come from services/contracts/registration.json, a snapshot that
`make contracts` writes from registration's own schemas (a drift test fails when it is stale).
"""
import copy
import inspect
import json
import pathlib
import re
from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields as ma_fields

from services.contracts.roles import ROLE_LABELS

from . import schemas
from .web import ApiHandler

_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
SNAPSHOT = pathlib.Path(__file__).resolve().parent.parent / "contracts" / "registration.json"
SAFE = {"GET", "HEAD", "OPTIONS"}
API_VERSION = "1.1.0"  # what changed in each version: docs/http-api.md, "Versions"

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description":
               "API 客户端：POST /api/v1/sessions 返回的 token，放在 Authorization: Bearer <token> 中"},
    "session_cookie": {"type": "apiKey", "in": "cookie", "name": "sid", "description":
                       "浏览器：登录时设置的 HttpOnly 会话 Cookie（空闲30分钟失效）"},
    "csrf_token": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token", "description":
                   "用 Cookie 调用改变状态的接口时必须同时提供：登录应答中的 csrf_token（与会话绑定）"},
}
# Either a bearer token, or the browser's cookie (plus the CSRF token when the request changes state).
SIGNED_IN_READ = [{"bearer": []}, {"session_cookie": []}]
SIGNED_IN_WRITE = [{"bearer": []}, {"session_cookie": [], "csrf_token": []}]

DESCRIPTION = """社会工作者职业水平证书登记（北京）的 HTTP JSON API。

- 认证：API 客户端用 `POST /api/v1/sessions` 取得 token，以 `Authorization: Bearer <token>` 调用；
  浏览器用 HttpOnly 会话 Cookie，改变状态的请求另带 `X-CSRF-Token`。每个接口的 `security` 与
  `x-roles` 说明需要的认证与角色；`security: []` 的接口无需登录。
- 错误统一为 `{"error": {"code", "message", "details"}}`，`message` 为中文，说明问题与修改方法；
  状态码如实：400/401/403/404/409/413/422/429/431/503，输入有误从不返回 500；请求头一行超过 8 KB
  或合计超过 64 KB（如过长的 token 或 Cookie）时答 431 `headers_too_large`。
- 代码值（民族、学历、服务地域……）见 `GET /api/v1/code-tables`。"""


def _load_snapshot():
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def document(service_cls=None):
    if service_cls is None:
        from .service import GatewayService as service_cls
    snapshot = _load_snapshot()
    plugin = MarshmallowPlugin()
    spec = APISpec(title="社会工作者职业水平证书登记 API", version=API_VERSION, openapi_version="3.0.3",
                   plugins=[plugin], info={"description": DESCRIPTION})
    spec.components.schema("ErrorBody", schema=schemas.ErrorBody)
    spec.components.schema("FormChanges", form_changes(snapshot))
    spec.components.schema("CampaignRequest", campaign_request(snapshot))
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    paths = {}
    for operation_id, method, path, options in routes(service_cls):
        openapi_path = _PARAM.sub(r"{\1}", path)
        for verb in method.split(","):
            paths.setdefault(openapi_path, {})[verb.lower()] = _operation(operation_id, verb, path, options)
    for operations in paths.values():  # a bare marshmallow field (a dict of lists) becomes its JSON Schema
        for media in _media_types(operations):
            if isinstance(media.get("schema"), ma_fields.Field):
                media["schema"] = plugin.converter.field2property(media["schema"])
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def routes(service_cls):
    """(operation id, method, path, options) of every `@api` route, in source order."""
    found = []
    for name, member in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            if isinstance(entrypoint, ApiHandler) and "<path:" not in entrypoint.url:
                found.append((inspect.getsourcelines(member)[1], name, entrypoint))
    return [(name, ep.method, ep.url, ep.options) for _, name, ep in sorted(found, key=lambda f: f[:2])]


def _operation(operation_id, verb, path, options):
    roles = options.get("roles")
    status = str(options.get("status") or 200)
    op = {"operationId": operation_id, "summary": options.get("summary", ""),
          "tags": list(options.get("tags") or []), "responses": {}}
    op["responses"][status] = _response("成功", options.get("response"), status)
    for code, (schema, text) in (options.get("responses") or {}).items():
        op["responses"][str(code)] = _response(text, schema, str(code))
    if roles:
        op["security"] = SIGNED_IN_READ if verb in SAFE else SIGNED_IN_WRITE
        op["x-roles"] = list(roles)
        op["description"] = "需要登录，角色：" + "、".join(f"{ROLE_LABELS.get(r, r)}（{r}）" for r in roles)
        op["responses"].setdefault("401", _error("未登录或登录已过期"))
        op["responses"].setdefault("403", _error("角色不符，或 Cookie 调用缺少有效的 X-CSRF-Token"))
    else:
        op["security"] = []
        op["description"] = "无需登录。"
    if options.get("description"):
        op["description"] += "\n\n" + options["description"]
    if options.get("deprecated"):
        op["deprecated"] = True
        op["description"] += "\n\n已弃用：" + options["deprecated"]
    op["responses"]["default"] = _error("错误（中文说明）")
    body = options.get("body")
    if body is not None:
        op["requestBody"] = {"required": True, "content": _content(body)}
    params = [{"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
              for name in _PARAM.findall(path)]
    if options.get("query"):
        params.append({"in": "query", "schema": options["query"]})
    if options.get("headers"):
        params.append({"in": "header", "schema": options["headers"]})
    if params:
        op["parameters"] = params
    return op


def _media_types(operations):
    for op in operations.values():
        for part in [op.get("requestBody", {}), *op["responses"].values()]:
            yield from part.get("content", {}).values()


def _path_schema(name):
    if name == "kind":
        from services.contracts.materials import KINDS
        return {"type": "string", "enum": list(KINDS)}
    return {"type": "string", "minLength": 1}


def _content(body):
    """A schema (or a component's name) is a JSON body; a dict maps media types to schemas."""
    if isinstance(body, dict):
        return {media: {"schema": _ref(schema)} for media, schema in body.items()}
    return {"application/json": {"schema": _ref(body)}}


def _ref(schema):
    # A name is always our component: apispec would otherwise look it up among every marshmallow
    # schema loaded in the process (registration's CampaignRequest, where all services share one).
    return {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema


def _response(text, schema, status):
    if status == "204":
        return {"description": text}
    answer = {"description": text}
    if schema is not None:
        answer["content"] = _content(schema)
    return answer


def _error(text):
    return {"description": text, "content": _content("ErrorBody")}


# --- what registration publishes (services/contracts/registration.json) ---------------------------------

_FIELD_TYPES = {
    "text": lambda f, t: {"type": "string", **({"maxLength": f["max_length"]} if f.get("max_length") else {})},
    "month": lambda f, t: {"type": "string", "example": "2015-07",
                           "description_suffix": "（年-月，如2015-07；也接受2015/7、2015年7月）"},
    "code": lambda f, t: {"type": "string", "enum": [*_codes(t, f["table"]), None],
                          "description_suffix": f"（代码表 {f['table']}）"},
    "codes": lambda f, t: {"type": "array", "items": {"type": "string", "enum": _codes(t, f["table"])},
                           "description_suffix": f"（代码表 {f['table']}，可多选）"},
    "number": lambda f, t: {"type": "integer", "minimum": f["minimum"], "maximum": f["maximum"]},
    "flag": lambda f, t: {"type": "boolean"},
}


def _codes(tables, table):
    return [entry["code"] for entry in tables[table]]


def _form_property(field, tables):
    if field["type"] in ("object", "list"):
        inner = _form_object(field["fields"], tables)
        prop = inner if field["type"] == "object" else {"type": "array", "items": inner,
                                                         "maxItems": field["max_items"]}
        suffix = ""
    else:
        prop = _FIELD_TYPES[field["type"]](field, tables)
        suffix = prop.pop("description_suffix", "")
    required = "提交时必填" if field.get("required") else "选填"
    text = f"：{field['text']}" if field.get("text") else ""
    return {**prop, "nullable": True, "description": f"{field['label']}{suffix}{text}；{required}；null 或空值表示清空"}


def _form_object(fields, tables):
    return {"type": "object", "additionalProperties": False,
            "properties": {f["name"]: _form_property(f, tables) for f in fields}}


def form_changes(snapshot):
    """The body of PATCH /applications/{id}: any subset of the editable fields, from registration's form spec."""
    spec, tables = snapshot["form_spec"], snapshot["code_tables"]
    locked = "、".join(f"{f['name']}（{f['label']}）" for f in spec["locked"])
    schema = _form_object(spec["fields"], tables)
    schema["description"] = ("《北京市社会工作者登记申请表》中申请人可填写的部分：保存草稿时可只填一部分，"
                             f"提交时再检查是否齐全。以下字段由系统关联、不可修改，提交会被拒绝：{locked}。")
    return schema


# Which code table lists the values of a campaign field (GET /code-tables serves the labels).
_CAMPAIGN_CODES = {"kind": "registration_kind", "eligible_levels": "cert_level", "delivery_methods": "delivery_method"}
_CAMPAIGN_TEXT = {
    "opens_at": "开始时间，北京时间，如 2020-07-01T00:00", "closes_at": "截止时间，北京时间，如 2020-07-31T24:00（当天结束）",
    "resubmit_closes_at": "不通过后重新提交的截止时间（北京时间），可为空",
}


def campaign_request(snapshot):
    """The body of POST /admin/campaigns: registration's CampaignRequest with its code values."""
    schema = copy.deepcopy(snapshot["schemas"]["CampaignRequest"])
    tables = snapshot["code_tables"]
    for name, table in _CAMPAIGN_CODES.items():
        prop = schema["properties"][name]
        target = prop["items"] if prop.get("type") == "array" else prop
        target["enum"] = _codes(tables, table)
        prop["description"] = f"代码表 {table}"
    for name, text in _CAMPAIGN_TEXT.items():
        schema["properties"][name]["description"] = text
    return schema
