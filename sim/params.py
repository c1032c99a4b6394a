"""The model's parameters: one typed, validated object with a source for every default.

Every field carries its unit in the description and a source tag in
``json_schema_extra["source"]``: **DOC** (a documented figure, source named),
**DER** (arithmetic on DOC figures) or **ASM** (an assumption, said so), the
report cited by section (e.g. 一(一)2). ``MODEL.md``'s parameter table is generated from
this module (``convsim params``), so the two cannot drift apart.

Groups follow the pipeline: firms → supply of results → meeting (对接) →
contract → subsidy → pilot test (中试) → finance → industrialisation, plus the
feedback groups talent, platforms and high-tech certification.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SECTORS: tuple[str, ...] = ("special_vehicles", "agri_food", "emergency", "materials", "other")
SECTORS_ZH: tuple[str, ...] = ("专用汽车", "香菇/农产品加工", "应急产业", "材料/冶金", "其他")
COUNTIES: tuple[str, ...] = ("zengdu", "sui_county", "guangshui", "high_tech_zone", "dahongshan")
COUNTIES_ZH: tuple[str, ...] = ("曾都区", "随县", "广水市", "随州高新区", "大洪山风景名胜区")
#: The three county-level units that add 10 % of the transaction value (report 一(一)2).
TOPUP_COUNTIES: tuple[int, ...] = (0, 1, 2)
#: Capacities counted in whole units although typed as floats (the rules take their floor, so
#: a lever phased in adds one unit at a time); they may only grow over time.
CAPACITIES: tuple[str, ...] = ("meeting.brokers", "pilot.public_slots")
CHANNELS: tuple[str, ...] = ("event", "platform", "workstation", "agency", "commissioner", "institute")
CHANNELS_ZH: tuple[str, ...] = ("对接活动", "科惠网", "高校工作站", "技术转移机构", "科技特派员", "产业技术研究院")
TRL_LEVELS: tuple[int, ...] = (3, 4, 5, 6, 7, 8)


def param(default: Any, unit: str, source: str, *, ge: float | None = None, le: float | None = None,
      doc: str = "") -> Any:
    """A parameter field: default, unit, source tag and allowed range."""
    return Field(default, ge=ge, le=le, description=f"[{unit}] {doc}".strip(),
                 json_schema_extra={"source": source, "unit": unit})


class Group(BaseModel):
    """A parameter group: unknown keys and wrong types are errors, never ignored."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)


def _shares(v: list[float], n: int, what: str) -> list[float]:
    if len(v) != n:
        raise ValueError(f"{what} needs exactly {n} shares, got {len(v)}")
    if any(x < 0 for x in v) or not math.isclose(sum(v), 1.0, abs_tol=1e-6):
        raise ValueError(f"{what} must be non-negative and sum to 1 (got sum {sum(v):.6g})")
    return v


class Time(Group):
    """Calendar: continuous time in years from 1 January of ``start_year``."""

    start_year: int = param(2018, "year", "DOC report: 'five years' = 2018–2022", ge=2000, le=2100)
    horizon_year: int = param(2027, "year", "ASM project design: five policy years 2023–2027 after the report's "
                              "five years 2018–2022", ge=2018, le=2060,
                          doc="last simulated year (inclusive)")
    warmup_years: int = param(3, "years", "ASM the pipeline already holds projects in 2018: simulate from 2015 "
                          "(the commissioners' first data year) and discard nothing, report from start_year",
                          ge=0, le=20)
    policy_start_year: int = param(2023, "year", "DOC report published 2023-01-03; levers act from 2023",
                               ge=2018, le=2060)

    @model_validator(mode="after")
    def _order(self) -> Time:
        if self.horizon_year < self.start_year:
            raise ValueError(f"horizon_year {self.horizon_year} is before start_year {self.start_year}")
        if not self.start_year <= self.policy_start_year <= self.horizon_year + 1:
            raise ValueError(f"policy_start_year {self.policy_start_year} must lie between start_year "
                             f"{self.start_year} and horizon_year + 1 ({self.horizon_year + 1})")
        return self


class Firms(Group):
    """The firm population (需求侧): who could take up a research result."""

    n_above_size: int = param(560, "firms", "DER 随州日报: 658 above-designated-size industrial firms (c. 2019, DOC); "
                              "560 on 1 January 2015 grow with the entry and exit rates past 658 in 2019",
                              ge=1, le=100000)
    n_tech_sme: int = param(150, "firms", "ASM science-based SMEs below designated size; no Suizhou count found",
                        ge=0, le=100000)
    sector_share: list[float] = param([0.15, 0.22, 0.08, 0.10, 0.45], "share",
                                  "ASM shaped by DOC cluster counts (85 vehicle makers, 135 mushroom firms, "
                                  "35 metallurgy firms)", doc="special vehicles, agri-food, emergency, "
                                  "materials, other")
    county_share: list[float] = param([0.35, 0.20, 0.28, 0.14, 0.03], "share",
                                  "ASM (no firm counts by county in the report)",
                                  doc="曾都, 随县, 广水, 高新区, 大洪山")
    rd_institution_share: float = param(0.40, "share", "DER 345 R&D institutions (report 一(二)2) / ≈808 firms "
                                    "(the firm count before entry and exit were modelled), less firms holding "
                                    "several (ASM); science-based SMEs at half this share. With entries and new "
                                    "institutions the baseline holds ≈380 firms with one at end-2022 (≈980 firms "
                                    "alive; 300 replications), ≈10 % above the report's 345: not a calibration "
                                    "target", ge=0, le=1)
    talent_share: float = param(0.30, "share", "ASM firms with a technical team able to absorb a result",
                            ge=0, le=1)
    awareness_median: float = param(0.30, "probability", "ASM report 二(一): most firms' innovation awareness is weak",
                                ge=0.001, le=0.999)
    awareness_logit_sd: float = param(1.0, "logit", "ASM spread of awareness among firms (logit-normal)", ge=0, le=10)
    liquid_share: float = param(0.30, "share", "ASM firms able to pay a pilot test from own funds", ge=0, le=1)
    collateral_share: float = param(0.589, "share", "DER 1 − 41.1 % of SMEs lacking collateral (DRC survey)",
                                ge=0, le=1)
    imitator_share: float = param(0.08, "share", "ASM report 二(一): 'a few firms' copy others' results",
                              ge=0, le=1)
    entry_rate_above: float = param(0.068, "1/year", "DER 45 industrial firms entered Suizhou's above-designated-"
                                    "size census in its 2021 annual round (docs/sources.md §5) / 658 firms", ge=0,
                                    le=1, doc="entrants a year per firm above designated size alive")
    exit_rate_above: float = param(0.035, "1/year", "ASM no Suizhou count of firms leaving the above-designated-"
                                   "size census (退规, closures) found; below entry, so the stock grows ≈ 3 % a year",
                                   ge=0, le=1)
    entry_rate_sme: float = param(0.15, "1/year", "ASM well below Hubei's registered science-based SMEs (+90 % in "
                                  "2021, +70 % in 2022, DOC docs/sources.md §5), whose growth is mostly registration; "
                                  "no Suizhou count found", ge=0, le=1,
                                  doc="entrants a year per science-based SME alive")
    exit_rate_sme: float = param(0.08, "1/year", "ASM science-based SMEs closing or no longer qualifying at the "
                                 "yearly evaluation", ge=0, le=1)
    sme_graduation_rate: float = param(0.02, "1/year", "ASM science-based SMEs that grow above designated size "
                                       "(they keep their attributes and become firms above designated size)",
                                       ge=0, le=1)

    @field_validator("sector_share")
    @classmethod
    def _sector(cls, v: list[float]) -> list[float]:
        return _shares(v, len(SECTORS), "sector_share")

    @field_validator("county_share")
    @classmethod
    def _county(cls, v: list[float]) -> list[float]:
        return _shares(v, len(COUNTIES), "county_share")


class Supply(Group):
    """Research results offered to Suizhou's firms, by channel (成果供给)."""

    events_per_year: float = param(8.0, "events/year", "DOC report 一(一)1: 40+ matchmaking events in five years",
                               ge=0, le=24)
    offers_per_event: int = param(10, "results/event", "ASM results pitched at one matchmaking event", ge=0,
                                  le=128)
    platform_offers_per_year: float = param(40.0, "results/year", "ASM results reaching firms via 科惠网",
                                        ge=0, le=2000)
    workstations: float = param(19.0, "workstations", "DOC report 一(三)1: 19 university workstations", ge=0, le=500)
    offers_per_workstation_year: float = param(3.0, "results/workstation/year", "ASM", ge=0, le=100)
    agencies: float = param(7.0, "agencies", "DOC report 一(二)3: 1 provincial demonstration agency + 1 sub-station "
                        "+ 5 grass-roots stations", ge=0, le=500)
    offers_per_agency_year: float = param(4.0, "results/agency/year", "ASM", ge=0, le=100)
    commissioners_2015: float = param(35.0, "people", "DOC report 一(三)2", ge=0, le=100000)
    commissioners_2022: float = param(324.0, "people", "DOC report 一(三)2", ge=0, le=100000)
    commissioner_growth_after_2022: float = param(0.0, "1/year", "ASM stock held at its 2022 level", ge=-0.5, le=1)
    offers_per_commissioner_year: float = param(0.10, "results/person/year",
                                            "ASM below Huangshi's 0.77 (DOC) since most of Suizhou's "
                                            "commissioners serve agriculture", ge=0, le=5)
    institutes: float = param(3.0, "institutes", "DOC report 一(二)2: vehicles, mushroom, emergency institutes",
                          ge=0, le=100)
    offers_per_institute_year: float = param(5.0, "results/institute/year", "ASM", ge=0, le=200)
    thinning_ceiling: float = param(4.0, "× default rate", "ASM model constant: candidate arrivals are drawn at "
                                "this multiple of each channel's default rate and thinned; a channel's effort (its "
                                "rate × the pool's gain, 1.1 at pool_multiple 5) may reach it: 4 leaves room for "
                                "three times today's rate", ge=1, le=100)
    pool_multiple: float = param(5.0, "× today's yearly flow", "ASM no count of the results relevant to Suizhou's "
                                 "sectors is published; each channel (events included) is assumed to reach a fifth "
                                 "of those it could reach in a year (a pool five times today's flow), so that today's "
                                 "flow keeps its meaning while a channel pushed to k times its effort brings "
                                 "(1 − e^(−k/m)) / (1 − e^(−1/m)) times today's results (×2 → 1.82, ×4 → 3.04 at "
                                 "m = 5); a very large value removes the limit", ge=1, le=1e6)
    trl_share: list[float] = param([0.15, 0.25, 0.25, 0.20, 0.10, 0.05], "share",
                               "ASM most university results are embryonic (Jensen & Thursby 2001, DOC)",
                               doc="TRL 3, 4, 5, 6, 7, 8")
    institute_trl_bonus: int = param(1, "TRL levels", "ASM institutes pitch results closer to their industry",
                                 ge=0, le=3)
    maturation_share: float = param(0.0, "share", "ASM institute-channel results that the institutes select "
                                "for the city and mature (熟化) before transfer: +1 TRL; none today (report 三(二)二)",
                                ge=0, le=1)
    demand_led_share: float = param(0.0, "share", "ASM institute-channel results developed by university teams to "
                                "answer a need the institutes collected from a firm (企业出题、高校答题): +1 TRL, the "
                                "asking firm is known, the result fits its need; none today (report 三(二)二)",
                                ge=0, le=1)
    value_median_yuan: float = param(250_000.0, "yuan", "DER 289 k mean subsidised deal (report 一(一)2) and "
                                 "prior median 200–300 k (docs/sources.md §3)", ge=1000, le=1e9)
    value_log_sd: float = param(0.9, "log yuan", "ASM heavy tail (Polasko et al. 2021, DOC): mean ≈ 375 k",
                            ge=0, le=3)
    patent_share: float = param(0.6, "share", "ASM results protected by a patent", ge=0, le=1)

    @field_validator("trl_share")
    @classmethod
    def _trl(cls, v: list[float]) -> list[float]:
        return _shares(v, len(TRL_LEVELS), "trl_share")


class Meeting(Group):
    """Meetings (对接): a result meets a firm; brokers are the scarce resource."""

    brokers: float = param(8.0, "brokers", "ASM one active broker per agency plus the city promotion centre",
                       ge=0, le=1000)
    broker_service_median_years: float = param(0.025, "years", "ASM about nine days of search per result",
                                           ge=0.001, le=2)
    broker_service_log_sd: float = param(0.5, "log years", "ASM", ge=0, le=3)
    broker_queue_cap: float = param(6.0, "results", "ASM a result finding this many waiting goes unassisted",
                                ge=0, le=10000)
    brokers_per_agency: float = param(1.0, "brokers/agency", "ASM an agency is an intermediary: its staff search "
                                  "and negotiate like brokers; one each today (meeting.brokers = 7 agencies + 1)",
                                  ge=0, le=100, doc="brokers a transfer agency added after the first year brings")
    efficiency_broker: float = param(0.055, "μ", "ASM calibrated to T2 (500+ meetings in five years)", ge=0, le=10)
    efficiency_unassisted: float = param(0.025, "μ", "ASM", ge=0, le=10)
    efficiency_event: float = param(0.07, "μ", "ASM calibrated to 20–34 % event yields (Hubei reports, DER)",
                                ge=0, le=10)
    alpha: float = param(0.5, "elasticity", "DOC form M = μ·D^α·S^(1−α) (Calcagnini et al. 2016); value ASM",
                     ge=0, le=1)
    attempts: int = param(2, "attempts", "ASM a result not met is offered once more", ge=1, le=10)
    retry_median_years: float = param(0.25, "years", "ASM", ge=0.001, le=5)


class Contract(Group):
    """Negotiation → a registered technology contract, or imitation, or no deal."""

    negotiation_median_years: float = param(0.15, "years", "ASM", ge=0.001, le=5)
    negotiation_log_sd: float = param(0.5, "log years", "ASM", ge=0, le=3)
    base_logit: float = param(-1.65, "logit", "ASM calibrated to T3–T6 (nearly 200 contracts in five years; "
                              "the ABC-SMC posterior median of 2026-12-04, calibration/README.md)",
                          ge=-20, le=20)
    b_rd_institution: float = param(0.6, "logit", "ASM absorptive capacity (report 二(二))", ge=-10, le=10)
    b_talent: float = param(0.5, "logit", "ASM report 二(三)", ge=-10, le=10)
    b_vice_president: float = param(0.5, "logit", "ASM 科技副总 placed in the firm", ge=-10, le=10)
    b_evaluation: float = param(1.0, "logit per unit", "ASM evaluation services (report 二(四))", ge=-10, le=10)
    b_patent: float = param(0.3, "logit", "ASM", ge=-10, le=10)
    b_value: float = param(0.4, "logit per log(value/median)", "ASM dearer results are harder to sell",
                       ge=-10, le=10)
    b_subsidy: float = param(0.5, "logit per unit rate", "ASM small: no substantial additionality "
                         "(Dimos & Pugh 2016, DOC)", ge=-10, le=10)
    evaluation_level: float = param(0.2, "0–1", "ASM evaluation services are uneven today (report 二(四))",
                                ge=0, le=1)
    institute_evaluation: float = param(0.0, "0–1", "ASM evaluation level added for results that pass through "
                                        "the three industry institutes (their patent-value evaluation, report "
                                        "三(二)二); none today; the sum with evaluation_level is capped at 1",
                                        ge=0, le=1)
    imitation_prob: float = param(0.5, "probability", "ASM an imitator copies instead of contracting when "
                              "unprotected", ge=0, le=1)
    need_fit: float = param(0.1, "0–1", "ASM share of meetings where the firm's need was pinned down beforehand "
                            "(report 三(一)二: 启发式找准企业需求); demand-led results always fit", ge=0, le=1)
    b_need_fit: float = param(1.0, "logit per unit", "ASM a result that answers a known need sells more easily",
                              ge=-10, le=10)
    visits_per_year: float = param(0.0, "visits/year", "ASM report 三(一)二 recommends exchange visits between "
                                   "universities and firms (组织高校院所与企业实地参观交流); none documented today. "
                                   "Rounded to whole visits, each to a different firm above designated size, at the "
                                   "year's end", ge=0, le=1000)
    visit_known_years: float = param(2.0, "years", "ASM a visited firm's need stays known this long: a meeting with "
                                     "it fits a known need (fit 1); no measured duration found", ge=0, le=50)
    ip_protection: float = param(0.3, "0–1", "ASM share of imitation prevented", ge=0, le=1)
    imitation_discouragement: float = param(0.02, "share of awareness", "ASM report 二(一): copying hurts "
                                        "others' incentive", ge=0, le=1)


class Subsidy(Group):
    """Money from the city's yearly fund (专项资金) and the counties' top-up."""

    fund_yuan_per_year: float = param(10_000_000.0, "yuan/year", "DOC report 一(二)1", ge=0, le=1e11)
    city_rate: float = param(0.20, "share of value", "DOC report 一(一)2", ge=0, le=1)
    county_rate: float = param(0.10, "share of value", "DOC report 一(一)2 (随县, 广水, 曾都)", ge=0, le=1)
    claim_prob: float = param(0.42, "probability", "ASM calibrated to T5 (80 subsidised of ≈180); a firm that "
                              "claims counts on the subsidy when it decides, the others do not", ge=0, le=1)
    claim_publicity: float = param(0.0, "share", "ASM share of negotiating firms that would not claim who learn of "
                                   "the subsidy, count on it and claim once publicity reaches them (report 三(一)一: "
                                   "享受成果转化补贴); 0 today", ge=0, le=1)
    pilot_matching_share: float = param(0.0, "share of pilot cost", "ASM matching funds (配套资金) from the city "
                                        "fund: share of a public-base pilot's cost the fund pays while it holds "
                                        "it; none today (report 三(五)一)", ge=0, le=1)
    cap_per_project_yuan: float = param(math.inf, "yuan", "ASM no cap is documented", ge=0)
    awards_per_year: float = param(5.0, "projects/year", "DOC report 一(一)2", ge=0, le=100)
    award_yuan: float = param(500_000.0, "yuan", "DOC report 一(一)2", ge=0, le=1e9)
    hightech_reward_yuan: float = param(100_000.0, "yuan/new certificate", "DER 10.92 M yuan (report 一(二)1) / "
                                    "≈107 first certificates 2018–22, rounded (the model's mean at the defaults); "
                                    "renewals are not rewarded (ASM)", ge=0, le=1e9)


class Pilot(Group):
    """The pilot test (中试) that immature results need before production."""

    trl_ready: int = param(6, "TRL", "ASM results at TRL ≥ 6 skip the pilot (share needing one 0.5–0.8, "
                       "prior in docs/sources.md)",
                       ge=1, le=10)
    public_slots: float = param(3.0, "projects at once", "ASM 3 institutes + science park; report 二(一): "
                            "'中试环节仍然薄弱'", ge=0, le=1000)
    public_queue_cap: float = param(3.0, "projects", "ASM more waiting than this sends a firm elsewhere",
                                ge=0, le=10000)
    inhouse_prob: float = param(0.5, "probability", "ASM firms with R&D institution and talent test in-house",
                            ge=0, le=1)
    duration_median_years: float = param(0.85, "years", "ASM prior median 9–12 months (docs/sources.md §3)",
                                         ge=0.01, le=10)
    duration_log_sd: float = param(0.5, "log years", "ASM prior (docs/sources.md §3)", ge=0, le=3)
    outside_duration_factor: float = param(1.3, "×", "ASM outside bases are farther and busier", ge=0.1, le=10)
    cost_multiple_median: float = param(6.0, "× value", "ASM/WEAK prior 3–10 × contract value (docs/sources.md); "
                                        "calibrated to T11 (R&D induced without production investment)",
                                        ge=0, le=100)
    cost_log_sd: float = param(0.5, "log", "ASM", ge=0, le=3)
    public_cost_factor: float = param(0.6, "×", "ASM public bases share equipment", ge=0, le=10)
    outside_cost_factor: float = param(1.5, "×", "ASM", ge=0, le=10)
    finance_prob: float = param(0.5, "probability", "ASM a firm without own funds finds the pilot money, for a "
                            "pilot whose cost to the firm is finance_reference_yuan", ge=0, le=1)
    finance_reference_yuan: float = param(1_500_000.0, "yuan", "DER median pilot cost: median value 250 k × "
                                          "cost multiple 6 (ASM)", ge=1000, le=1e9)
    finance_cost_elasticity: float = param(1.0, "logit per log yuan", "ASM the odds of finding the money fall "
                                           "in proportion to the cost the firm bears (after subsidies and "
                                           "matching funds)", ge=0, le=10)
    insurance_share: float = param(0.0, "share", "ASM conversion financing insurance (none today, report 三(五))",
                               ge=0, le=1)
    success_base: float = param(0.40, "probability", "ASM prior 0.3–0.5 (Merrow 1981, DOC; docs/sources.md)",
                                ge=0, le=1)
    public_uplift: float = param(0.15, "probability", "ASM prior +0.1–0.3, capped by the WEAK 30→80 % "
                             "claim (docs/sources.md)",
                             ge=0, le=1)
    talent_uplift: float = param(0.10, "probability", "ASM", ge=0, le=1)
    trl_uplift: float = param(0.05, "probability per TRL above 3", "ASM", ge=0, le=1)


class Finance(Group):
    """Money for industrialisation: own funds, guarantee loans, IP pledges, venture."""

    invest_multiple_median: float = param(5.0, "× value", "ASM investment to produce, per yuan of contract",
                                      ge=0, le=1000)
    invest_log_sd: float = param(0.5, "log", "ASM", ge=0, le=3)
    own_funds_prob: float = param(0.7, "probability", "ASM liquid firms pay from own funds", ge=0, le=1)
    guarantee_approval: float = param(0.70, "probability", "ASM below 85.7 % small-firm loan success (CBRC, DOC); "
                                  "needs collateral", ge=0, le=1)
    ip_pledge_approval: float = param(0.40, "probability", "ASM lower for IP pledges (prior, docs/sources.md)",
                                      ge=0, le=1)
    venture_prob: float = param(0.05, "probability", "ASM high-tech firms only", ge=0, le=1)
    hightech_priority: float = param(0.10, "probability", "ASM credit priority for high-tech firms (report 一(四)2)",
                                 ge=0, le=1)
    wait_median_years: float = param(0.2, "years", "ASM 45.8 % of SMEs report long waits (DRC, DOC)",
                                 ge=0.001, le=5)
    wait_log_sd: float = param(0.6, "log years", "ASM", ge=0, le=3)
    rounds: int = param(2, "rounds", "ASM a firm refused everywhere tries once more", ge=1, le=10)
    retry_median_years: float = param(0.5, "years", "ASM", ge=0.001, le=5)


class Industry(Group):
    """Industrialisation (产业化): ramp-up and commercial success."""

    rampup_median_years: float = param(1.0, "years", "ASM", ge=0.01, le=10)
    rampup_log_sd: float = param(0.5, "log years", "ASM", ge=0, le=3)
    success_base: float = param(0.56, "probability", "DOC late-stage pass rates 0.43–0.59 (Stevens & Burley 1997); "
                            "0.56 inside that range keeps T7 with projects lost to firm exits", ge=0, le=1)
    talent_uplift: float = param(0.10, "probability", "ASM", ge=0, le=1)
    role_model_boost: float = param(0.02, "share of unawareness", "ASM each success persuades sector peers "
                                "(report 三(一) 选树先进典型)", ge=0, le=1)


class Talent(Group):
    """Technical talent in firms and university experts placed as vice-presidents (科技副总)."""

    vice_presidents_per_year: float = param(14.6, "placements/year", "DER (25 provincial + 48 city) / 5 years "
                                        "(report 一(三)2)", ge=0, le=10000)
    vice_president_tenure_years: float = param(2.0, "years", "ASM", ge=0.1, le=20)
    turnover: float = param(0.18, "1/year", "DOC 15.7–16.6 % staff turnover (51job) + small-city uplift (ASM)",
                        ge=0, le=1)
    inflow: float = param(0.06, "1/year", "ASM firms without a team that gain one", ge=0, le=1)
    vp_targeting: float = param(0.0, "share", "ASM placements made where a firm has a technical problem "
                                "(以解决企业技术难题为导向, report 三(三)三); today not oriented (random firms)",
                                ge=0, le=1)
    vp_problem_years: float = param(1.0, "years", "ASM a firm that signed a contract this recently has a "
                                    "technical problem to solve (absorbing the result)", ge=0.1, le=10)
    vp_training: float = param(0.1, "1/year", "ASM a vice-president's guidance and training (技术指导培训) leaves "
                               "a technical team in a firm that had none", ge=0, le=1)
    publicity_rate: float = param(0.02, "share of unawareness/year", "ASM policy publicity today (report 三(一))",
                              ge=0, le=1)


class Platforms(Group):
    """Firms' own R&D institutions: founded, used, and delisted when idle."""

    rd_adoption_rate: float = param(0.01, "1/year", "ASM firms founding an R&D institution", ge=0, le=1)
    title_only_share: float = param(0.5, "share", "ASM R&D institutions that hold a title but do little R&D "
                                    "(重申报、轻发展, report 二(二)二: 'most' platforms invest little): no absorptive "
                                    "capacity, no in-house pilot", ge=0, le=1)
    support_rate: float = param(0.0, "1/year", "ASM title-only institutions that support for hardware and "
                                "software (软硬件投入, report 三(二)三) turns into working ones; none today",
                                ge=0, le=1)
    review_prob_idle: float = param(0.0, "1/year", "ASM chance a year that an idle institution is reviewed on "
                                    "conversion (report 三(二)三); no performance review today", ge=0, le=1)
    review_upgrade: float = param(0.5, "share", "ASM reviewed title-only institutions whose firms invest to keep "
                                  "the title (they start to work; more with a team or a vice-president, fewer the "
                                  "longer idle: absorb.review_*); the others are delisted", ge=0, le=1)
    idle_years: float = param(3.0, "years", "ASM no contract for this long counts as idle", ge=0.5, le=50)


class Absorption(Group):
    """Firms' absorptive capacity (吸收能力), the report's bottleneck: whom a result meets and how many it can carry.

    The report (二(二)二, 二(三), 三(二), 三(三)) names firms' weak R&D institutions and lack of technical talent
    as what keeps results from being taken up. A firm's capacity factor is 1 + ``weight_rd`` (a working R&D
    institution) + ``weight_talent`` (a technical team) + ``weight_vp`` (a vice-president in post); the firm a
    result meets is drawn in proportion to awareness × that factor. A firm carries at most ``slots_base`` +
    ``slots_rd`` (working institution) + ``slots_talent`` (team) projects under way at once.
    """

    weight_rd: float = param(1.0, "× awareness", "ASM report 二(二)二 and 三(二): a working R&D institution is "
                             "where outside results land (a title-only one counts for nothing); at equal awareness "
                             "a firm with one is 1 + this times as likely to be the firm a result meets", ge=0, le=20)
    weight_talent: float = param(1.0, "× awareness", "ASM report 二(三) and 三(三): a technical team can read and "
                                 "judge a result; adds this to the firm's capacity factor", ge=0, le=20)
    weight_vp: float = param(1.0, "× awareness", "ASM report 三(三)三: a vice-president in post (科技副总) brings "
                             "their university's contacts; adds this to the firm's capacity factor", ge=0, le=20)
    slots_base: float = param(2.0, "projects", "ASM projects under way (met, not done) a firm without a working R&D "
                              "institution or team can carry at once; a meeting with a full firm fails", ge=1, le=1000)
    slots_rd: float = param(2.0, "projects", "ASM more projects a firm with a working R&D institution carries "
                            "(report 二(二)二: the institution is the firm's absorptive capacity)", ge=0, le=1000)
    slots_talent: float = param(1.0, "projects", "ASM more projects a firm with a technical team carries "
                                "(report 二(三): talent is the bottleneck)", ge=0, le=1000)
    vp_to_no_team: float = param(1.0, "share", "ASM report 三(三)三 and 一(三)2: the plan sends university experts "
                                 "to firms short of technical staff; this share of the placements not oriented to a "
                                 "technical problem goes to a firm without a technical team (the rest at random)",
                                 ge=0, le=1)
    vp_result_prob: float = param(0.3, "probability", "ASM report 三(三)三: a placed vice-president brings a result "
                                  "of their university to the host firm (a direct meeting, demand-led: it answers the "
                                  "host's need); no count published", ge=0, le=1)
    review_team_bonus: float = param(0.2, "probability", "ASM report 三(二)三 and 二(三): at the performance review a "
                                     "firm with a technical team is this much likelier to make a title-only "
                                     "institution work (the rest are delisted)", ge=0, le=1)
    review_vp_bonus: float = param(0.1, "probability", "ASM a vice-president in post helps a reviewed firm revive "
                                   "its institution", ge=0, le=1)
    review_idle_half_life_years: float = param(3.0, "years", "ASM the chance that a reviewed title-only "
                                               "institution improves halves for every this many years it has been "
                                               "idle beyond platforms.idle_years (recent use: a live one revives)",
                                               ge=0.1, le=100)
    review_upgrade_yuan: float = param(500_000.0, "yuan", "ASM what a firm invests in equipment and staff (软硬件投入, "
                                       "report 三(二)三) to make a reviewed title-only institution work; the firm's "
                                       "R&D money", ge=0, le=1e9)
    awareness_fade: float = param(0.1, "share of excess awareness/year", "ASM report 二(一) and 三(一): awareness "
                                  "raised by publicity, role models and contact fades without renewal; each year a "
                                  "firm without a contract in the past year or a vice-president in post loses this "
                                  "share of its awareness above its own level at founding", ge=0, le=1)


class HighTech(Group):
    """High-tech enterprise (高企) certification: applications, approval, three-year validity, renewal."""

    initial_stock: int = param(120, "firms", "ASM chosen so the stock passes 170 by end-2022 (T8) with "
                               "certificates expiring; their ages at the start drawn uniformly over the validity",
                               ge=0, le=100000)
    validity_years: int = param(3, "years", "DOC 高新技术企业认定管理办法 (国科发火〔2016〕32号): the qualification is "
                                "valid three years from the certificate's date (docs/sources.md §5)", ge=1, le=10)
    reapply_prob: float = param(0.95, "probability", "ASM most firms whose certificate expires re-apply (重新认定: "
                                "the 15 % tax rate is at stake) if still eligible (R&D institution or team); "
                                "re-applications count as applications (T8)", ge=0, le=1)
    renewal_approval: float = param(0.97, "probability", "ASM no renewal approval rate documented; above first "
                                    "approval since a renewing firm met the criteria once", ge=0, le=1)
    apply_prob: float = param(0.046, "1/year", "ASM eligible firms (R&D institution or technical team) "
                              "without a certificate applying in 2018; with the re-applications, 95 applications "
                              "in 2022 (T8_applications; smc.toml prior 0.023–0.092)", ge=0, le=1)
    apply_growth: float = param(0.35, "1/year", "ASM the rolling cultivation plan (report 一(二)1) raises applications "
                            "to 95 in 2022 (DOC, T8); held at the 2022 level after", ge=-0.5, le=2)
    approval: float = param(0.6, "probability", "ASM no approval rate documented (commonly quoted a third to a "
                            "half nationally); set above that so the stock passes 170 by end-2022 (T8) with "
                            "certificates expiring and 95 applications in 2022, renewals included "
                            "(smc.toml prior 0.3–0.8)", ge=0, le=1)
    other_contracts_per_year: float = param(175.0, "contracts/year", "ASM non-university contracts so that all "
                                        "contracts ≈ 1000+ in five years (T4)", ge=0, le=1e5)


class Params(Group):
    """All parameters of one scenario's base (before levers)."""

    time: Time = Field(default_factory=Time)
    firms: Firms = Field(default_factory=Firms)
    supply: Supply = Field(default_factory=Supply)
    meeting: Meeting = Field(default_factory=Meeting)
    contract: Contract = Field(default_factory=Contract)
    subsidy: Subsidy = Field(default_factory=Subsidy)
    pilot: Pilot = Field(default_factory=Pilot)
    finance: Finance = Field(default_factory=Finance)
    industry: Industry = Field(default_factory=Industry)
    talent: Talent = Field(default_factory=Talent)
    platforms: Platforms = Field(default_factory=Platforms)
    absorb: Absorption = Field(default_factory=Absorption)
    hightech: HighTech = Field(default_factory=HighTech)

    @property
    def first_year(self) -> int:
        """The first simulated calendar year (start year less the warm-up)."""
        return self.time.start_year - self.time.warmup_years

    @property
    def n_years(self) -> int:
        return self.time.horizon_year - self.first_year + 1

    @property
    def n_firms(self) -> int:
        return self.firms.n_above_size + self.firms.n_tech_sme


GROUPS: tuple[str, ...] = tuple(Params.model_fields)


def parameter_rows() -> list[dict[str, Any]]:
    """Every parameter with group, name, unit, default, range and source (for MODEL.md and the CLI)."""
    rows: list[dict[str, Any]] = []
    for gname in GROUPS:
        gcls = Params.model_fields[gname].annotation
        for fname, f in gcls.model_fields.items():  # type: ignore[union-attr]
            extra = f.json_schema_extra or {}
            lo = hi = None
            for m in f.metadata:
                lo = getattr(m, "ge", lo)
                hi = getattr(m, "le", hi)
            desc = f.description or ""
            rows.append({"parameter": f"{gname}.{fname}", "unit": extra.get("unit", ""),
                         "default": f.default, "min": lo, "max": hi,
                         "meaning": desc.split("] ", 1)[-1] if "] " in desc else "",
                         "source": extra.get("source", "")})
    return rows
