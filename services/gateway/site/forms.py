"""HTML forms ⇄ the API's JSON. Browsers send flat fields (`delivery.postcode`,
`work_history.0.start`, repeated `service_fields`); the services take the nested JSON the API
documents. Errors come back flat, keyed the same way, so each lands at its field."""

EMPTY_WORK_ROWS = 2  # blank rows offered for 工作经历 (JavaScript adds more)


def application_changes(form, spec):
    """The form fields of the application as the save_draft RPC takes them."""
    changes = {}
    for field in spec["fields"]:
        name, kind = field["name"], field["type"]
        if kind == "codes":
            changes[name] = [v for v in form.getlist(name) if v]
        elif kind == "flag":
            changes[name] = form.get(name) == "yes"
        elif kind == "object":
            changes[name] = {inner["name"]: form.get(f"{name}.{inner['name']}", "") for inner in field["fields"]}
        elif kind == "list":
            changes[name] = _rows(form, field)
        else:
            changes[name] = form.get(name, "")
    return changes


def _rows(form, field):
    rows = []
    for index in range(int(field.get("max_items") or 20)):
        row = {inner["name"]: form.get(f"{field['name']}.{index}.{inner['name']}", "").strip()
               for inner in field["fields"]}
        if any(row.values()):
            rows.append(row)
    return rows


def form_values(saved, spec, posted=None):
    """What each input shows: the posted value after a refused save, else the saved one."""
    if posted is not None:
        return application_changes(posted, spec)
    return {field["name"]: saved.get(field["name"]) for field in spec["fields"]}


def work_rows(values):
    rows = list(values.get("work_history") or [])
    return rows + [{} for _ in range(EMPTY_WORK_ROWS)]


def field_errors(details):
    """{key: [message]} from a refusal's details, whatever shape they came in."""
    if not isinstance(details, dict):
        return {}
    return {str(k): (v if isinstance(v, list) else [str(v)]) for k, v in details.items()
            if k not in ("retry_after", "application_id", "captcha")}
