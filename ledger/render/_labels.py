"""Bilingual (Chinese / English) labels of what a certificate and the register show.

Rules: every label is a pair (中文, English); names the ledger stores (instruments, sources,
tiers, organisation types) are shown with both, unknown names as they are.
"""

from __future__ import annotations

__all__ = ["LABELS", "both", "named"]

LABELS: dict[str, tuple[str, str]] = {
    "title_event": ("大型活动碳中和证书", "Carbon Neutrality Certificate of a Large Event"),
    "title_retirement": ("碳信用注销证书", "Carbon Credit Retirement Certificate"),
    "register": ("碳中和信息公开登记簿", "Public Disclosure Register"),
    "event": ("活动", "Event"),
    "kind": ("类型", "Kind"),
    "venue": ("地点", "Venue"),
    "time": ("时间", "Time held"),
    "participants": ("参与人数", "Participants"),
    "tier": ("评价方式", "Tier (R2)"),
    "organisers": ("主办方", "Organisers"),
    "emissions": ("排放核算（按排放源）", "Emissions by source (R6)"),
    "source": ("排放源", "Source"),
    "tonnes": ("吨二氧化碳当量", "tCO2e"),
    "total": ("合计", "Total"),
    "retired": ("注销的碳信用", "Units retired (R11)"),
    "registry": ("登记机构", "Registry"),
    "instrument": ("类别", "Instrument"),
    "project": ("项目", "Project"),
    "serials": ("序列号", "Serial range"),
    "rank": ("优先级 (R8)", "R8 priority"),
    "deviation": ("偏离说明", "Deviation and reason"),
    "beneficiary": ("受益方", "Beneficiary"),
    "confirmation": ("评价或承诺", "Evaluation or commitment"),
    "evaluation": ("第三方评价", "Third-party evaluation"),
    "commitment": ("自我承诺", "Self-commitment"),
    "confirmed": ("确认碳中和", "Neutrality confirmed"),
    "none": ("无", "none"),
    "deadlines": ("期限 (R10)", "Deadlines (R10)"),
    "proof": ("证明", "Proof"),
    "checkpoint": ("签名检查点", "Signed checkpoint"),
    "digest": ("证明文件摘要 SHA-256", "Proof digest (SHA-256)"),
    "pending": ("证明待定", "Proof pending"),
    "cosignatures": ("见证联署", "witness cosignatures"),
    "certificate": ("证书", "Certificate"),
    "events": ("活动", "Events"),
    "certificates": ("注销证书", "Certificates"),
    "plans": ("碳中和实施计划", "Plans (R4)"),
    "evaluations": ("评价", "Evaluations"),
    "commitments": ("承诺", "Commitments"),
    "confirmations": ("确认", "Confirmations"),
    "retirements": ("注销", "Retirements"),
    "deviations": ("优先级偏离", "R8 deviations"),
    "parcels": ("使用的碳汇地块", "Sink parcels used (R9)"),
    "download": ("下载证明文件", "Download the proof file"),
    "verify_hint": (
        "离线验证：ledger verify 证明文件 --trust 信任根",
        "Verify offline: ledger verify PROOF --trust ROOT.json",
    ),
}

_NAMES: dict[str, str] = {
    "inclusion-forest": "碳普惠林业碳汇",
    "inclusion-marine": "碳普惠海洋碳汇",
    "inclusion-other": "碳普惠减排量",
    "ccer": "国家核证自愿减排量",
    "cea": "碳排放配额",
    "other": "其他",
    "fixed-combustion": "场馆固定燃烧",
    "mobile-combustion": "公务车辆移动燃烧",
    "purchased-electricity": "外购电力",
    "purchased-heat": "外购热力",
    "transport-air": "交通（航空）",
    "transport-rail": "交通（铁路）",
    "transport-road": "交通（公路）",
    "transport-metro": "交通（地铁）",
    "transport-taxi": "交通（出租车）",
    "transport-private-car": "交通（私家车）",
    "lodging": "住宿",
    "catering": "餐饮",
    "materials": "物料",
    "waste": "废弃物",
    "third_party": "第三方评价",
    "self_commitment": "自我承诺",
    "voluntary": "自愿",
    "party-government-organ": "党政机关",
    "public-institution": "事业单位",
    "enterprise": "企业",
    "social-organisation": "社会组织",
    "individual": "个人",
    "meeting": "会议",
    "performance": "演出",
    "forum": "论坛",
    "competition": "赛事",
    "exhibition": "展览",
    "met": "已完成",
    "pending": "待完成",
    "due soon": "即将到期",
    "missed": "已逾期",
    "neutral": "实现碳中和",
    "not-neutral": "未实现碳中和",
}


def both(key: str) -> str:
    """The label ``key`` as ``中文 / English``."""
    zh, en = LABELS[key]
    return f"{zh} / {en}"


def named(name: str | None) -> str:
    """A stored name with its Chinese name, if it has one: ``forum 论坛``."""
    if name is None:
        return "-"
    zh = _NAMES.get(name)
    return f"{name} {zh}" if zh else name
