"""Code tables as data. The API serves them (`all_tables()`), pages never hard-code them.

Where a national standard exists the standard's codes are used (GB/T 3304 民族, GB/T 4762 政治面貌,
GB/T 2260 districts); elsewhere stable English codes, because they travel in events and the
database and must not change when a label is reworded.
"""
import functools

from services.common.idnumbers import ID_TYPE_LABELS
from services.contracts.materials import KIND_LABELS
from services.contracts.roles import ROLE_LABELS
from services.contracts.states import (
    APPLICATION_STATE_LABELS,
    DECISION_LABELS,
    FEEDBACK_STATE_LABELS,
    TASK_STATE_LABELS,
)

# GB/T 3304-1991 中国各民族名称的罗马字母拼写法和代码, in the standard's order.
_ETHNIC_NAMES = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 "
    "哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 "
    "达斡尔族 仫佬族 羌族 布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 乌孜别克族 "
    "俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
).split()
ETHNICITY = tuple((f"{i:02d}", name) for i, name in enumerate(_ETHNIC_NAMES, start=1)) + (
    ("97", "其他"),
    ("98", "外国血统中国籍人士"),
)

# GB/T 4762-1984 政治面貌代码.
POLITICAL_STATUS = (
    ("01", "中共党员"), ("02", "中共预备党员"), ("03", "共青团员"), ("04", "民革会员"),
    ("05", "民盟盟员"), ("06", "民建会员"), ("07", "民进会员"), ("08", "农工党党员"),
    ("09", "致公党党员"), ("10", "九三学社社员"), ("11", "台盟盟员"), ("12", "无党派人士"),
    ("13", "群众"),
)

EDUCATION = (
    ("POSTGRADUATE", "研究生"),
    ("BACHELOR", "大学本科"),
    ("COLLEGE", "大学专科"),
    ("SECONDARY_VOCATIONAL", "中专"),
    ("HIGH_SCHOOL_OR_BELOW", "高中及以下"),
)

EMPLOYER_CATEGORY = (
    ("SOCIAL_WORK_AGENCY", "社会工作服务机构"),
    ("SOCIAL_ORGANIZATION", "社会团体"),
    ("FOUNDATION", "基金会"),
    ("GOVERNMENT", "党政机关"),
    ("PUBLIC_INSTITUTION", "事业单位"),
    ("COMMUNITY_COMMITTEE", "村(居)委会"),
    ("ENTERPRISE", "企业"),
    ("OTHER", "其他"),
)

# GB/T 2260 codes of Beijing's 16 districts (110103 崇文 / 110104 宣武 were merged in 2010).
SERVICE_DISTRICT = (
    ("110101", "东城区"), ("110102", "西城区"), ("110105", "朝阳区"), ("110106", "丰台区"),
    ("110107", "石景山区"), ("110108", "海淀区"), ("110109", "门头沟区"), ("110111", "房山区"),
    ("110112", "通州区"), ("110113", "顺义区"), ("110114", "昌平区"), ("110115", "大兴区"),
    ("110116", "怀柔区"), ("110117", "平谷区"), ("110118", "密云区"), ("110119", "延庆区"),
)

# The 16 national service fields, then 其他. Seed data: the table is meant to be configurable.
SERVICE_FIELD = (
    ("SOCIAL_WELFARE", "社会福利"),
    ("SOCIAL_ASSISTANCE", "社会救助"),
    ("CHARITY", "慈善事业"),
    ("COMMUNITY_BUILDING", "社区建设"),
    ("MARRIAGE_FAMILY", "婚姻家庭"),
    ("MENTAL_HEALTH", "精神卫生"),
    ("DISABILITY_REHABILITATION", "残障康复"),
    ("EDUCATION_GUIDANCE", "教育辅导"),
    ("EMPLOYMENT_ASSISTANCE", "就业援助"),
    ("WORKER_SUPPORT", "职工帮扶"),
    ("CRIME_PREVENTION", "犯罪预防"),
    ("DRUG_REHABILITATION", "禁毒戒毒"),
    ("CORRECTION", "矫治帮教"),
    ("FAMILY_PLANNING", "人口计生"),
    ("DISPUTE_MEDIATION", "纠纷调解"),
    ("EMERGENCY_RESPONSE", "应急处置"),
    ("OTHER", "其他"),
)

ASSISTANT, INTERMEDIATE, SENIOR = "ASSISTANT", "INTERMEDIATE", "SENIOR"
CERT_LEVEL = (
    (ASSISTANT, "助理社会工作师（初级）"),
    (INTERMEDIATE, "社会工作师（中级）"),
    (SENIOR, "高级社会工作师（高级）"),
)

FIRST, RENEWAL, LATE, REISSUE = "FIRST", "RENEWAL", "LATE", "REISSUE"
REGISTRATION_KIND = (
    (FIRST, "首次登记"),
    (RENEWAL, "再登记"),
    (LATE, "补登记"),
    (REISSUE, "补证"),
)

MAIL, PICKUP = "MAIL", "PICKUP"
DELIVERY_METHOD = (
    (MAIL, "邮寄"),
    (PICKUP, "自取"),
)

# The four uploads of the notice, named once in services.contracts.materials.
MATERIAL_KIND = tuple(KIND_LABELS.items())

# GB/T 2261.1 uses 1/2; "M"/"F" is what idnumbers.parse_id derives from the ID, so it is used here.
GENDER = (("M", "男"), ("F", "女"))

# Owned by services.common.idnumbers (one name per idea); served here with the other tables.
ID_TYPE = tuple(ID_TYPE_LABELS.items())

# Application states as applicants and staff read them (services.contracts.states).
APPLICATION_STATE = tuple(APPLICATION_STATE_LABELS.items())
TASK_STATE = tuple(TASK_STATE_LABELS.items())
FEEDBACK_STATE = tuple(FEEDBACK_STATE_LABELS.items())
DECISION = tuple(DECISION_LABELS.items())
ROLE = tuple(ROLE_LABELS.items())

TABLES = {
    "id_type": ID_TYPE,
    "gender": GENDER,
    "ethnicity": ETHNICITY,
    "political_status": POLITICAL_STATUS,
    "education": EDUCATION,
    "employer_category": EMPLOYER_CATEGORY,
    "service_district": SERVICE_DISTRICT,
    "service_field": SERVICE_FIELD,
    "cert_level": CERT_LEVEL,
    "registration_kind": REGISTRATION_KIND,
    "delivery_method": DELIVERY_METHOD,
    "material_kind": MATERIAL_KIND,
    "application_state": APPLICATION_STATE,
    "task_state": TASK_STATE,
    "feedback_state": FEEDBACK_STATE,
    "decision": DECISION,
    "role": ROLE,
}


def all_tables():
    """{table_name: [{"code", "label"}, ...]} in display order; fresh lists, callers may mutate."""
    return {name: [{"code": c, "label": lbl} for c, lbl in rows] for name, rows in TABLES.items()}


@functools.cache  # the tables are constants; the form check asks for a set per field checked
def codes_of(table):
    return frozenset(code for code, _ in TABLES[table])


def label_of(table, code):
    """The Chinese label of `code`, or None when the code is not in the table."""
    return dict(TABLES[table]).get(code)
