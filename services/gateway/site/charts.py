"""Charts drawn on the server as SVG: no script, no library, nothing from the network.

Bars are sized in percentages of the chart's width and the text in pixels, so a chart fills a
phone or a desktop column and its labels stay readable at either size (no viewBox scaling). Each
mark carries data-key and data-value — the number it draws — so tests compare it with the API.
A chart is an image for assistive technology (role="img", a title and a summary); the page shows
the same numbers in a table beside it.
"""
from markupsafe import Markup, escape

BAR = "#0b4f9c"  # 8.6:1 on white: the bars are not only colour (values are written beside them)
TEXT = "#1b1b1b"
ROW, BAR_HEIGHT, LABEL_GAP = 46, 16, 20


def _attrs(**values):
    return " ".join(f'{k.replace("_", "-")}="{escape(v)}"' for k, v in values.items())


def bars(chart_id, title, rows, unit="件"):
    """Horizontal bars, one per (key, label, value): the label and the value above the bar."""
    rows = list(rows)
    top = max([v for _, _, v in rows] + [1])
    height = max(len(rows), 1) * ROW + 8
    total = sum(v for _, _, v in rows)
    summary = "；".join(f"{label}{value}{unit}" for _, label, value in rows) or "暂无数据"
    parts = [f'<svg class="chart" id="{escape(chart_id)}" width="100%" height="{height}" role="img" '
             f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" data-total="{total}" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
             f'<desc id="{escape(chart_id)}-d">{escape(summary)}</desc>']
    if not rows:
        parts.append(f'<text x="0" y="24" fill="{TEXT}" font-size="15">暂无数据</text>')
    for i, (key, label, value) in enumerate(rows):
        y = i * ROW
        width = 0 if value <= 0 else max(0.5, 100 * value / top)
        parts.append(f'<text x="0" y="{y + 16}" fill="{TEXT}" font-size="15">{escape(label)}：'
                     f'<tspan font-weight="bold">{value}</tspan>{escape(unit)}</text>')
        parts.append(f'<rect class="mark" {_attrs(data_key=key, data_value=value)} x="0" y="{y + LABEL_GAP + 2}" '
                     f'width="{width:.2f}%" height="{BAR_HEIGHT}" fill="{BAR}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(chart_id, title, rows, unit="件", label_every=None):
    """Vertical columns over time, one per (key, label, value); every n-th label written below."""
    rows = list(rows)
    n = max(len(rows), 1)
    top = max([v for _, _, v in rows] + [1])
    plot, axis = 160, 40
    every = label_every or max(1, -(-n // 8))
    total = sum(v for _, _, v in rows)
    summary = "；".join(f"{label}{value}{unit}" for _, label, value in rows) or "暂无数据"
    parts = [f'<svg class="chart" id="{escape(chart_id)}" width="100%" height="{plot + axis}" role="img" '
             f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" data-total="{total}" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
             f'<desc id="{escape(chart_id)}-d">{escape(summary)}</desc>',
             f'<text x="0" y="14" fill="{TEXT}" font-size="13">最多{top}{escape(unit)}</text>',
             f'<line x1="0" x2="100%" y1="{plot}" y2="{plot}" stroke="{TEXT}" stroke-width="1"/>']
    if not rows:
        parts.append(f'<text x="0" y="{plot - 8}" fill="{TEXT}" font-size="15">暂无数据</text>')
    slot = 100 / max(n, 7)  # a short series keeps week-wide columns, left-aligned
    for i, (key, label, value) in enumerate(rows):
        h = 0 if value <= 0 else max(1.0, (plot - 24) * value / top)
        x = i * slot + slot * 0.15
        parts.append(f'<rect class="mark" {_attrs(data_key=key, data_value=value)} x="{x:.3f}%" '
                     f'y="{plot - h:.1f}" width="{slot * 0.7:.3f}%" height="{h:.1f}" fill="{BAR}"/>')
        if i % every == 0:
            parts.append(f'<text x="{i * slot + slot / 2:.3f}%" y="{plot + 18}" fill="{TEXT}" font-size="13" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
