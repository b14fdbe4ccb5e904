"""Versioned message templates, one per (kind, channel), checked when they are loaded.

A template file is `<kind>.<channel>.j2` and starts with a Jinja comment that declares it:

    {#-
    version: 3
    placeholders: purpose, code, valid_minutes
    -#}

Loading fails (TemplateDeclarationError) when a declared placeholder is unused or a used one
undeclared, so a typo stops the service at start-up instead of a message at send time. Email
templates define two blocks, `subject` and `body`; SMS templates are plain text whose lines are
joined (write them over several lines for readability) and prefixed with the SMS signature.
"""
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import meta, nodes

from services.contracts.materials import KIND_LABELS

from .formatting import beijing_time, mask_address, sms_segments

KINDS = ("verification_code", "account_registered", "submission_receipt", "approved", "rejected",
         "dispatched")
CHANNELS = ("sms", "email")
EMAIL_BLOCKS = frozenset({"subject", "body"})
DEFAULT_SMS_SIGNATURE = "【北京社会工作者协会】"
DEFAULT_TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"

_NAME_RE = re.compile(r"^(?P<kind>[a-z][a-z0-9_]*)\.(?P<channel>[a-z]+)\.j2$")
_HEADER_RE = re.compile(r"\A\{#-?(?P<header>.*?)-?#\}", re.DOTALL)


class TemplateError(Exception):
    pass


class TemplateDeclarationError(TemplateError):
    """A template file is malformed or its declaration does not match its text (start-up)."""


class UnknownTemplate(TemplateError, LookupError):
    pass


class MissingPlaceholders(TemplateError):
    """render() was not given every value the template needs."""


@dataclass(frozen=True)
class RenderedMessage:
    subject: str | None
    body: str
    template: str
    version: int

    @property
    def length(self):
        return len(self.body)

    @property
    def segments(self):
        """How many SMS parts the body costs (meaningful for SMS only)."""
        return sms_segments(self.body)


@dataclass(frozen=True)
class TemplateSpec:
    kind: str
    channel: str
    version: int
    placeholders: frozenset
    file_name: str


def _parse_header(file_name, source):
    match = _HEADER_RE.match(source)
    if not match:
        raise TemplateDeclarationError(f"模板 {file_name} 开头缺少声明注释（version 与 placeholders）")
    fields = {}
    for line in match.group("header").splitlines():
        if line.strip():
            key, sep, value = line.partition(":")
            if not sep:
                raise TemplateDeclarationError(f"模板 {file_name} 的声明行无法识别：{line.strip()!r}")
            fields[key.strip()] = value.strip()
    try:
        version = int(fields["version"])
    except (KeyError, ValueError):
        raise TemplateDeclarationError(f"模板 {file_name} 必须声明整数版本号（version: 1）") from None
    if "placeholders" not in fields:
        raise TemplateDeclarationError(f"模板 {file_name} 必须声明 placeholders（可以为空）")
    declared = frozenset(p.strip() for p in fields["placeholders"].split(",") if p.strip())
    return version, declared


def _check(env, file_name, channel, source, declared):
    try:
        ast = env.parse(source, name=file_name)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateDeclarationError(f"模板 {file_name} 第 {exc.lineno} 行语法错误：{exc.message}") from None
    # Includes would hide placeholders from the check below, so templates stand alone.
    if list(meta.find_referenced_templates(ast)):
        raise TemplateDeclarationError(f"模板 {file_name} 不能引用其他模板（include/extends/import）")
    used = meta.find_undeclared_variables(ast)
    unused, undeclared = declared - used, used - declared
    problems = []
    if unused:
        problems.append("声明了但未使用：" + "、".join(sorted(unused)))
    if undeclared:
        problems.append("使用了但未声明：" + "、".join(sorted(undeclared)))
    if problems:
        raise TemplateDeclarationError(f"模板 {file_name} 的占位符与声明不符（{'；'.join(problems)}）")
    blocks = {block.name for block in ast.find_all(nodes.Block)}
    if channel == "email" and blocks != EMAIL_BLOCKS:
        raise TemplateDeclarationError(f"邮件模板 {file_name} 必须且只能定义 subject 和 body 两个 block")
    if channel != "email" and blocks:
        raise TemplateDeclarationError(f"模板 {file_name} 不应定义 block（只有邮件模板有主题）")


def _environment(sources):
    env = jinja2.Environment(
        loader=jinja2.DictLoader(sources),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text; the HTML email part escapes the rendered text itself
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["beijing_time"] = beijing_time
    env.filters["mask_address"] = mask_address
    env.filters["material_label"] = KIND_LABELS.__getitem__  # the names the page shows
    return env


def _one_line(text):
    return " ".join(text.split())


class TemplateRegistry:
    def __init__(self, env, specs, sms_signature=DEFAULT_SMS_SIGNATURE):
        self._env = env
        self._specs = specs
        self.sms_signature = sms_signature

    @classmethod
    def load(cls, directory=DEFAULT_TEMPLATE_DIR, sms_signature=DEFAULT_SMS_SIGNATURE, required_kinds=KINDS):
        """Read every `*.j2` file of `directory` (start-up only) and check it; see from_sources."""
        directory = Path(directory)
        if not directory.is_dir():
            raise TemplateDeclarationError(f"模板目录不存在：{directory}")
        sources = {path.name: path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.j2"))}
        return cls.from_sources(sources, sms_signature=sms_signature, required_kinds=required_kinds)

    @classmethod
    def from_config(cls, config):
        """NOTIFY_TEMPLATE_DIR and NOTIFY_SMS_SIGNATURE, with the shipped templates and signature as defaults."""
        return cls.load(config.get("NOTIFY_TEMPLATE_DIR") or DEFAULT_TEMPLATE_DIR,
                        sms_signature=config.get("NOTIFY_SMS_SIGNATURE") or DEFAULT_SMS_SIGNATURE)

    @classmethod
    def from_sources(cls, sources, sms_signature=DEFAULT_SMS_SIGNATURE, required_kinds=KINDS):
        env = _environment(sources)
        specs = {}
        for file_name, source in sources.items():
            match = _NAME_RE.match(file_name)
            if not match or match["channel"] not in CHANNELS:
                raise TemplateDeclarationError(
                    f"模板文件名 {file_name} 不符合 <kind>.<channel>.j2（channel 为 {'/'.join(CHANNELS)}）")
            version, declared = _parse_header(file_name, source)
            _check(env, file_name, match["channel"], source, declared)
            specs[(match["kind"], match["channel"])] = TemplateSpec(
                match["kind"], match["channel"], version, declared, file_name)
        missing = [f"{kind}.{channel}.j2" for kind in required_kinds for channel in CHANNELS
                   if (kind, channel) not in specs]
        if missing:
            raise TemplateDeclarationError("缺少模板：" + "、".join(missing))
        return cls(env, specs, sms_signature)

    def spec(self, kind, channel):
        try:
            return self._specs[(kind, channel)]
        except KeyError:
            raise UnknownTemplate(f"没有 {kind} 的 {channel} 模板") from None

    def catalogue(self):
        """[(kind, channel, version)] for health pages and logs."""
        return sorted((s.kind, s.channel, s.version) for s in self._specs.values())

    def render(self, kind, channel, context):
        spec = self.spec(kind, channel)
        missing = spec.placeholders - set(context)
        if missing:
            raise MissingPlaceholders(f"渲染 {spec.file_name} 缺少占位符：{'、'.join(sorted(missing))}")
        values = {name: context[name] for name in spec.placeholders}
        template = self._env.get_template(spec.file_name)
        try:
            if channel == "email":
                ctx = template.new_context(values)
                subject = _one_line("".join(template.blocks["subject"](ctx)))
                body = "".join(template.blocks["body"](ctx)).strip()
            else:
                subject = None
                text = "".join(line.strip() for line in template.render(values).splitlines())
                body = self.sms_signature + text
        except jinja2.UndefinedError as exc:
            # A nested value is missing (e.g. a material issue without a reason).
            raise MissingPlaceholders(f"渲染 {spec.file_name} 时缺少数据：{exc.message}") from None
        return RenderedMessage(subject=subject, body=body, template=kind, version=spec.version)
