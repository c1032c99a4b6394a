"""The page's words in Chinese and English (one vocabulary with the report)."""

from __future__ import annotations

LANGS = ("zh", "en")

STRINGS: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "title": ("随州科技成果转化政策模拟 · 方案探索", "Suizhou research-result conversion · scenario explorer"),
    "subtitle": ("在报告第三部分的对策中组合措施,与现状在共同随机数上配对比较。",
                 "Combine the measures of the report's section 三 and compare the mix with the status quo, "
                 "paired on common random numbers."),
    "lang": ("语言", "Language"),
    "tab_build": ("组合措施", "Build a mix"),
    "tab_results": ("结果", "Results"),
    "tab_assumptions": ("假设", "Assumptions"),
    "tab_optimise": ("最优组合", "Best mix"),
    "tab_download": ("下载", "Downloads"),
    "start_from": ("从已有方案开始", "Start from a shipped scenario"),
    "load": ("载入", "Load"),
    "upload": ("上传方案文件(.toml)", "Upload a scenario file (.toml)"),
    "budget": ("年度预算(万元)", "Yearly budget (10k yuan)"),
    "on": ("实施", "On"),
    "intensity": ("强度", "Intensity"),
    "start_year": ("开始年份", "Start year"),
    "cost_year": ("每年成本(万元)", "Yearly cost (10k yuan)"),
    "year": ("年份", "Year"),
    "over_budget": ("超出预算", "over budget"),
    "within_budget": ("在预算内", "within budget"),
    "run": ("运行比较", "Run the comparison"),
    "cancel": ("取消", "Cancel"),
    "reps": ("配对重复次数(目标)", "Paired replications (target)"),
    "seed": ("随机种子", "Seed"),
    "worlds": ("考虑不确定性(多个世界)", "Over worlds of uncertainty"),
    "n_worlds": ("世界数", "Worlds"),
    "keep": ("保留此组合以并列比较", "Keep this mix (side by side, up to 4)"),
    "clear_kept": ("清除保留的组合", "Clear kept mixes"),
    "kept": ("保留的组合", "Kept mixes"),
    "engine_preparing": ("模拟引擎正在准备(首次编译,约60秒),已用 {s:.0f} 秒;您可以继续组合措施。",
                         "The engine is being prepared (a one-off compile, about 60 s): {s:.0f} s so far; "
                         "keep building your mix meanwhile."),
    "engine_ready": ("模拟引擎已就绪。", "The engine is ready."),
    "status_idle": ("尚未运行。", "Not run yet."),
    "status_waiting": ("排队中:前面还有 {n} 个任务。", "Waiting in the queue: {n} job(s) ahead."),
    "status_running": ("运行中:第 {i}/{k} 阶段,{reps} 次配对重复。", "Running: stage {i} of {k}, {reps} paired "
                       "replications."),
    "status_done": ("完成:{reps} 次配对重复。", "Done: {reps} paired replications."),
    "status_cancelled": ("已取消(控件已改变)。", "Cancelled (a control changed)."),
    "status_failed": ("运行失败:{msg}", "The run failed: {msg}"),
    "no_measure": ("请至少实施一项措施。", "Switch on at least one measure."),
    "headline": ("与现状相比(配对差值,95%区间)", "Change from the status quo (paired difference, 95 % interval)"),
    "scenario": ("方案", "Scenario"),
    "d_ind": ("产业化项目增量", "Δ industrialised projects"),
    "d_conv": ("引进转化增量(转化指标)", "Δ introduced & converted (转化 indicator)"),
    "world_range": ("多世界5–95%范围", "5–95 % range over worlds"),
    "cost_total": ("财政成本增量(万元/年)", "Δ fiscal cost (10k yuan a year)"),
    "cost_window": ("{years}年合计(万元)", "{years}-year total (10k yuan)"),
    "per_project": ("每增加一个产业化项目的成本(万元)", "Cost per extra industrialised project (10k yuan)"),
    "told_apart": ("可区分性", "Told apart?"),
    "tie_group": ("无法区分组", "Tie set"),
    "answer_reps": ("{reps} 次配对重复,种子 {seed}{w}。", "{reps} paired replications, seed {seed}{w}."),
    "with_worlds": (",{n} 个世界", ", {n} worlds"),
    "few_worlds": ("世界数少于20,5–95%范围不可靠。", "Fewer than 20 worlds: the 5–95 % range is not reliable."),
    "fig_funnel": ("漏斗(逐阶段)", "Funnel, stage by stage"),
    "fig_fans": ("逐年路径", "Yearly paths"),
    "fig_cost": ("财政成本", "Fiscal cost"),
    "fig_bottlenecks": ("瓶颈", "Bottlenecks"),
    "fig_forest": ("各指标差值", "Differences of every indicator"),
    "fig_worlds": ("不确定性下的结果", "Over the worlds of uncertainty"),
    "fig_voi": ("最影响结论的假设", "Assumptions that move the answer most"),
    "effect": ("效果取值", "Effect value"),
    "stated": ("报告/假设值", "Stated value"),
    "range": ("合理范围", "Plausible range"),
    "source": ("来源", "Source"),
    "your_value": ("您的取值", "Your value"),
    "outside": ("超出合理范围", "outside the plausible range"),
    "reset": ("恢复", "Reset"),
    "voi_title": ("价值信息:哪些假设最影响结论(需考虑多个世界)", "Value of information: which assumptions move "
                  "the answer most (needs worlds)"),
    "voi_none": ("勾选“考虑不确定性”后运行,即可看到此表。", "Run with “Over worlds of uncertainty” to see this table."),
    "voi_input": ("不确定输入", "Uncertain input"),
    "voi_rho": ("与领先幅度的秩相关", "Rank correlation with the leader's margin"),
    "sure_title": ("结论有多可靠", "How sure are we?"),
    "sure_none": ("运行比较后,这里说明区间涵盖什么。", "Run a comparison: this says what the intervals cover."),
    "sure_mc": ("上表的 95% 区间只包含 {reps} 次配对重复的蒙特卡洛噪声,且在模型参数的默认值下计算;参数、措施效果和"
                "成本的不确定性不在其中:勾选“考虑不确定性”后运行即可看到。",
                "The 95 % intervals above hold only the Monte Carlo noise of {reps} paired replications, at the "
                "model's default parameters; the uncertainty in the parameters and in the measures' effects and "
                "costs is not in them: run “Over worlds of uncertainty” to see it."),
    "sure_worlds": ("上表的 95% 区间只包含 {reps} 次配对重复的蒙特卡洛噪声;“多世界5–95%范围”一列和下图把每个组合放到 "
                    "{n} 个情景世界中(校准参数集 × 措施效果与成本的抽样)。哪些假设最影响结论:见“假设”页。",
                    "The 95 % intervals above hold only the Monte Carlo noise of {reps} paired replications; the "
                    "column “5–95 % range over worlds” and the figure below run every mix in {n} worlds (calibrated "
                    "parameter sets × draws of the measures' effects and costs). Which assumptions move the answer "
                    "most: the Assumptions tab."),
    "no_assumptions": ("请先实施至少一项措施。", "Switch on a measure first."),
    "opt_intro": ("在年度预算内,从五类对策的有成本措施中搜索产业化项目增量最大的组合(可中断后继续)。",
                  "Search the paid measures of the five groups for the mix that adds most industrialised projects "
                  "within a yearly budget (resumable)."),
    "opt_trials": ("尝试的组合数", "Mixes tried"),
    "opt_reps": ("每个组合的重复次数", "Replications per mix"),
    "opt_frontier": ("前沿预算(万元,逗号分隔,可选)", "Frontier budgets (10k yuan, comma-separated, optional)"),
    "opt_run": ("寻找最优组合", "Find the best mix"),
    "opt_running": ("优化运行中:已完成 {done}/{n} 次尝试,已用 {s:.0f} 秒……", "Optimising: {done} of {n} mixes tried, "
                    "{s:.0f} s so far…"),
    "opt_stop": ("停止搜索", "Stop the search"),
    "opt_waiting": ("优化排队中:前面还有 {n} 个任务。", "Optimisation waiting: {n} job(s) ahead."),
    "opt_done": ("最优组合:", "Best mix found:"),
    "opt_load": ("载入到组合", "Load into the builder"),
    "opt_failed": ("优化失败:{msg}", "The optimisation failed: {msg}"),
    "opt_no_cancel": ("搜索每次运行10个组合,其间其他人的比较可以插队;"
                      "停止后已完成的尝试保存在应用的输出文件夹,再次运行会继续。",
                      "The search runs ten mixes at a time, letting others' comparisons in between; a stopped "
                      "search keeps its finished trials in the app's output folder and a new run continues it."),
    "dl_mix": ("下载方案文件(.toml)", "Download the mix as a scenario file (.toml)"),
    "dl_report": ("下载HTML报告(.zip)", "Download the HTML report (.zip)"),
    "dl_summary": ("下载汇总表(CSV)", "Download the summary table (CSV)"),
    "dl_details": ("下载全部指标(CSV)", "Download every indicator (CSV)"),
    "dl_need_run": ("运行比较后可下载报告和表格。", "Run a comparison to download the report and tables."),
    "error": ("错误:{msg}", "Error: {msg}"),
    "loaded": ("已载入:{name}", "Loaded: {name}"),
    "group_1": ("(一)增强企业创新意识", "(1) Firms' awareness of innovation"),
    "group_2": ("(二)加强创新平台建设", "(2) Innovation platforms"),
    "group_3": ("(三)加大人才培养使用", "(3) Talent"),
    "group_4": ("(四)完善中介服务体系", "(4) Intermediary services"),
    "group_5": ("(五)强化财政金融保障", "(5) Fiscal and financial support"),
    "model_version": ("模型版本 convsim {v}", "Model version convsim {v}"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "can_tell": ("与其他组合可区分", "told apart from the others"),
    "cannot_tell": ("与 {others} 无法区分", "cannot be told from {others}"),
}


def t(key: str, lang: str, **kw: object) -> str:
    """The text of ``key`` in ``lang`` (``zh`` or ``en``), formatted with ``kw``."""
    zh, en = STRINGS[key]
    text = zh if lang == "zh" else en
    return text.format(**kw) if kw else text


def browser_lang(accept_language: str | None, default: str = "zh") -> str:
    """The page's language from the browser's Accept-Language header: the first of zh/en it names.

    >>> browser_lang("en-GB,en;q=0.9,zh;q=0.5")
    'en'
    >>> browser_lang(None)
    'zh'
    """
    if accept_language:
        for part in accept_language.split(","):
            tag = part.split(";")[0].strip().lower()
            if tag.startswith("zh"):
                return "zh"
            if tag.startswith("en"):
                return "en"
    return default
