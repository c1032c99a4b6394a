"""Human names for the model's parameters, and the wording of a lever at the size it is given.

A planner reads "technology brokers" or "技术经纪人数量", not ``meeting.brokers``:
every page, report and printed text that names a parameter (a lever's target,
an uncertain input of the value-of-information table, a discovery box) shows
its name in the reader's language and keeps the key in small print.
:data:`PARAM_LABELS` names every parameter a shipped lever changes and every
parameter of the calibrated posterior (a test checks both); any other key is
shown as it is.

A lever written for one size ("eight more brokers") but run at another (an
equal-budget variant, a mix at another intensity) must not keep the words of
the first size: :func:`sized_rationale` writes its description from the size
it has, in Chinese and English.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.params import Params
    from sim.scenario import Lever

#: Parameter key → (Chinese, English) name, as a planner would say it.
PARAM_LABELS: dict[str, tuple[str, str]] = {
    "supply.events_per_year": ("每年成果对接活动场数", "matchmaking events a year"),
    "supply.platform_offers_per_year": ("科惠网每年推送成果数", "results a year via the 科惠网 platform"),
    "supply.offers_per_workstation_year": (
        "每个高校工作站每年带来的成果数", "results a year per university workstation",
    ),
    "supply.agencies": ("技术转移机构数量", "technology transfer agencies"),
    "supply.offers_per_commissioner_year": (
        "每名科技特派员每年带来的成果数", "results a year per science commissioner",
    ),
    "supply.maturation_share": ("研究院熟化后转移的成果占比", "share of institute results matured before transfer"),
    "supply.demand_led_share": (
        "按企业需求研发的研究院成果占比", "share of institute results developed for a firm's need",
    ),
    "meeting.brokers": ("技术经纪人数量", "technology brokers"),
    "meeting.efficiency_broker": ("经纪人撮合效率", "matching efficiency with a broker"),
    "meeting.efficiency_unassisted": ("无中介撮合效率", "matching efficiency without a broker"),
    "meeting.efficiency_event": ("对接活动撮合效率", "matching efficiency at events"),
    "contract.base_logit": ("签约基准倾向", "baseline propensity to sign a contract"),
    "contract.evaluation_level": ("成果评价服务水平", "level of evaluation services"),
    "contract.institute_evaluation": ("三家研究院成果的评价服务水平",
                                      "evaluation level of the three institutes' results"),
    "supply.pool_multiple": ("各渠道每年可及相关成果池(今日流量倍数)",
                             "yearly pool of relevant results per channel (× today's flow)"),
    "subsidy.fund_yuan_per_year": ("市级成果转化专项资金(元/年)", "city conversion fund (yuan a year)"),
    "contract.need_fit": ("事先找准企业需求的对接占比", "share of meetings with the firm's need pinned down"),
    "contract.visits_per_year": ("每年组织的高校院所与企业参观交流次数",
                                 "exchange visits between universities and firms a year"),
    "contract.visit_known_years": ("参观交流后企业需求保持明确的年数", "years a visited firm's need stays known"),
    "contract.ip_protection": ("仿制行为被阻止的比例", "share of imitation prevented"),
    "subsidy.county_rate": ("县级补贴比例", "county top-up rate"),
    "subsidy.claim_prob": ("申领补贴的概率", "probability of claiming the subsidy"),
    "subsidy.claim_publicity": ("经宣传后申领补贴的企业占比", "share of non-claiming firms that claim after publicity"),
    "subsidy.pilot_matching_share": ("中试配套资金比例", "share of a public pilot's cost paid by matching funds"),
    "pilot.public_slots": ("公共中试基地同时可做的中试数", "concurrent pilot tests at public bases"),
    "pilot.cost_multiple_median": ("中试成本(合同额的倍数)", "pilot cost (multiple of contract value)"),
    "pilot.insurance_share": ("中试保险覆盖的企业占比", "share of firms covered by pilot insurance"),
    "pilot.success_base": ("中试基准成功率", "baseline pilot success rate"),
    "finance.guarantee_approval": ("担保贷款获批率", "guarantee loan approval rate"),
    "finance.ip_pledge_approval": ("知识产权质押贷款获批率", "IP-pledge loan approval rate"),
    "finance.venture_prob": ("高新技术企业获得创投的概率", "chance a high-tech firm finds venture money"),
    "industry.role_model_boost": ("典型示范带动作用", "role models' pull on sector peers"),
    "talent.vice_presidents_per_year": ("每年选派科技副总人数", "science vice-presidents placed a year"),
    "talent.turnover": ("技术团队流失率", "technical teams' turnover rate"),
    "talent.inflow": ("企业新建技术团队的比率", "rate at which firms gain a technical team"),
    "talent.vp_targeting": ("科技副总按企业技术难题选派的占比", "share of vice-presidents placed at a firm's problem"),
    "talent.publicity_rate": ("政策宣传力度", "reach of policy publicity"),
    "platforms.rd_adoption_rate": ("企业新建研发机构的比率", "rate at which firms found an R&D institution"),
    "platforms.support_rate": (
        "挂牌研发机构获支持后运转的比率", "rate at which supported title-only R&D institutions start to work",
    ),
    "platforms.review_prob_idle": ("闲置研发机构接受绩效评估的概率", "chance an idle R&D institution is reviewed"),
    "hightech.other_contracts_per_year": ("每年其他技术合同数", "other technology contracts a year"),
    "hightech.approval": ("高新技术企业认定通过率", "high-tech enterprise approval rate"),
    "hightech.apply_prob": ("高新技术企业申报率", "rate of applying for high-tech status"),
    "hightech.renewal_approval": ("高新技术企业复审通过率", "high-tech renewal approval rate"),
}

#: Units whose values read best as percentages.
_PERCENT_UNITS = ("share", "0–1", "probability", "share of value", "share of pilot cost")


def param_label(key: str, lang: str = "en") -> str:
    """The human name of parameter ``key`` in ``lang`` (the key itself if it has none)."""
    names = PARAM_LABELS.get(key)
    if names is None:
        return key
    return names[0] if lang == "zh" else names[1]


def _unit(key: str) -> str:
    from sim.params import Params

    group, _, name = key.partition(".")
    model = Params.model_fields.get(group)
    if model is None or model.annotation is None:
        return ""
    field = getattr(model.annotation, "model_fields", {}).get(name)
    extra = field.json_schema_extra if field is not None else None
    return str(extra.get("unit", "")) if isinstance(extra, dict) else ""


def _fmt(v: float, percent: bool) -> str:
    return f"{100 * v:.3g} %" if percent else f"{v:.4g}"


def size_text(lv: Lever, params: Params, lang: str = "en", named: bool = True) -> str:
    """What ``lv`` does at its size, from the status quo's value: "technology brokers: 7 more (8 → 15)"
    (without the parameter's name if not ``named``: "7 more (8 → 15)")."""
    group, _, name = lv.param.partition(".")
    base = float(getattr(getattr(params, group), name))
    pct = _unit(lv.param) in _PERCENT_UNITS  # shares and probabilities in per cent (an addition in points)
    head = (param_label(lv.param, lang) + ("" if lang == "zh" else ": ")) if named else ""
    if lv.mode == "add":
        new = base + lv.value
        if pct:
            amount = f"{100 * abs(lv.value):.3g}" + ("个百分点" if lang == "zh" else " points")
        else:
            amount = f"{abs(lv.value):.4g}"
        if lang == "zh":
            change = f"{'增加' if lv.value >= 0 else '减少'}{amount}"
        else:
            change = f"{amount} {'more' if lv.value >= 0 else 'fewer'}"
        return f"{head}{change} ({_fmt(base, pct)} → {_fmt(new, pct)})"
    if lv.mode == "multiply":
        new = base * lv.value
        change = f"乘以{lv.value:.4g}" if lang == "zh" else f"× {lv.value:.4g}"
        return f"{head}{change} ({_fmt(base, pct)} → {_fmt(new, pct)})"
    if lang == "zh":
        return f"{head}由{_fmt(base, pct)}调整为{_fmt(lv.value, pct)}"
    return f"{head}{_fmt(base, pct)} → {_fmt(lv.value, pct)}"


def sized_rationale(original: Lever, sized: Lever, params: Params, why_en: str, why_zh: str) -> tuple[str, str]:
    """(English, Chinese) description of ``sized``, a resized copy of ``original``, that states its own size.

    The original's description is written for its size (its numbers would be wrong here), so it is not
    repeated; the sentence names the size the lever has, the size proposed (in the report's section
    ``report_ref``) and why it differs (``why_en``/``why_zh``, e.g. "equal-budget variant, cost × 0.875").
    """
    en = size_text(sized, params, "en")
    where_en = f"report {original.report_ref}" if original.report_ref else "the original lever"
    where_zh = f"报告{original.report_ref}" if original.report_ref else "原措施"
    en = (f"{en[:1].upper()}{en[1:]}. Proposed in {where_en}: {size_text(original, params, 'en', named=False)}; "
          f"{why_en}.")
    zh = (f"{size_text(sized, params, 'zh')}。{where_zh}提出的规模:{size_text(original, params, 'zh', named=False)};"
          f"{why_zh}。")
    return en, zh
