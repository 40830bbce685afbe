//! A self-contained HTML report: inline CSS and SVG only (no script, no network), units on every figure. Charts: the
//! loss curve ψ → worst_case_loss (a step function: the loss only changes where the shock budget reaches a new sum
//! of validator stakes, so it is drawn flat between the points computed and steps up at them), the exposure heatmap
//! (validators × services, each cell's share of the validator's stake written in it, with a colour scale) and the
//! backing per service (one colour per validator, with a legend). Given who bears each failure per staker, a table;
//! and any section the caller adds (the audit's risk pricing).

use std::{collections::HashMap, fmt::Write};

use crate::{number::Exact, report::Report};

/// `s` escaped for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f",
];

/// Who bears one service failing alone, as the caller traced it (pools and stakers, amounts in the stake's unit).
#[derive(Debug, Clone, Default)]
pub struct Bearers {
    /// The failing service.
    pub service: String,
    /// Loss per pool.
    pub pools: Vec<(String, Exact)>,
    /// Loss per staker.
    pub stakers: Vec<(String, Exact)>,
}

/// One colour per validator, the same in every chart.
fn colours(r: &Report) -> HashMap<String, String> {
    let mut ids: Vec<&String> = r.exposure.validators.iter().map(|v| &v.id).collect();
    ids.sort();
    ids.iter()
        .enumerate()
        .map(|(k, id)| {
            let colour = PALETTE.get(k).map_or_else(
                // Past the palette: hues spaced by the golden angle.
                || format!("hsl({:.0},55%,50%)", (k as f64 * 137.508) % 360.0),
                |c| (*c).to_string(),
            );
            ((*id).clone(), colour)
        })
        .collect()
}

/// Renders the report as one HTML page; `unit` names the stake's unit (e.g. `WETH`, or `stake units`).
pub fn render(r: &Report, title: &str, unit: &str, bearers: &[Bearers]) -> String {
    render_with(r, title, unit, bearers, &[])
}

/// [`render`], with `sections` (HTML fragments the caller built, every text in them escaped with [`esc`]) after the
/// tables of who bears the risk, before the notes.
pub fn render_with(
    r: &Report,
    title: &str,
    unit: &str,
    bearers: &[Bearers],
    sections: &[String],
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Bulkhead audit: {t}</title><style>\
         body{{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}}\
         table{{border-collapse:collapse;margin:.5em 0 1.5em}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}}\
         th{{background:#f3f3f3}}.ok{{color:#1a7f37;font-weight:600}}.bad{{color:#c62828;font-weight:600}}.muted{{color:#777}}\
         svg{{background:#fff;border:1px solid #ddd;margin:.5em 0 .5em}}.caption{{color:#555;max-width:760px;margin:0 0 1.5em}}\
         .legend span{{display:inline-block;margin:0 1em .3em 0}}.legend i{{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-1px}}\
         td.num{{text-align:right;font-variant-numeric:tabular-nums}}</style></head><body>\
         <h1>Restaking audit: {t}</h1>",
        t = esc(title)
    );
    let (cls, verdict) = match r.secure {
        Some(true) => ("ok", "secure: no attack with profit − cost &gt; 0"),
        Some(false) => ("bad", "insecure: a profitable attack exists"),
        None => ("muted", "undecided (bounds only)"),
    };
    let _ = write!(h, "<p class=\"{cls}\">{verdict}</p><table>");
    let row = |h: &mut String, k: &str, v: &str| {
        let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    };
    row(&mut h, "mode", r.mode);
    row(
        &mut h,
        "network",
        &format!(
            "{} validators, {} services, total stake {} {unit}, total profit {} {unit}",
            r.network.validators, r.network.services, r.network.total_stake, r.network.total_profit
        ),
    );
    if let Some(v) = &r.max_attack_profit {
        row(&mut h, "max_attack_profit", &v.to_string());
    } else if let Some(i) = &r.bounds.max_attack_profit {
        row(
            &mut h,
            "max_attack_profit (certified bounds)",
            &format!(
                "[{}, {}]",
                i.lower,
                i.upper.as_ref().map_or("?".into(), Exact::to_string)
            ),
        );
    }
    row(
        &mut h,
        "min_byzantine_services",
        &r.min_byzantine_services
            .map_or_else(|| "none / not computed".to_string(), |k| k.to_string()),
    );
    row(
        &mut h,
        "certificate γ",
        &r.certificate
            .gamma
            .as_ref()
            .map_or("none".into(), Exact::to_string),
    );
    h.push_str("</table>");
    if let Some(a) = r
        .best_attack
        .as_ref()
        .or(r.bounds.heuristic_attack.as_ref())
    {
        let label = if r.best_attack.is_some() {
            "Best attack"
        } else {
            "Heuristic attack (greedy, no optimality claim)"
        };
        let _ = write!(
            h,
            "<h2>{label}</h2><p>profit {} · cost {}</p><table><tr><th>service</th><th>coalition</th></tr>",
            esc(&a.profit.to_string()),
            esc(&a.cost.to_string())
        );
        for s in a.services.iter().take(50) {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(s),
                esc(&a
                    .validators
                    .get(s)
                    .map(|b| b.join(", "))
                    .unwrap_or_default())
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Loss curve: ψ → worst_case_loss</h2>");
    loss_curve(&mut h, r);
    h.push_str("<h2>Exposure heatmap (w<sub>is</sub> / stake<sub>i</sub>)</h2>");
    heatmap(&mut h, r);
    h.push_str("<h2>Backing per service</h2>");
    backing(&mut h, r, unit);
    let (bearer, basis) = match r.exposure.fails_alone_basis {
        crate::exposure::Basis::Network => (
            "validators lose",
            "Each backer loses its allocation; another service's backing by that validator falls to what the \
             validator has left.",
        ),
        crate::exposure::Basis::Chain => (
            "pools lose",
            "As the chain books it: the service takes its whole backing in every base pool, then in every tier at the \
             base price those slashes left (the cascade guard aside); other services' backings are what the \
             manager gives them after: shared backings rescaled to the reuse cap with each service's risk weight, \
             tiers at the new base price.",
        ),
    };
    let _ = write!(
        h,
        "<h2>Who bears the risk when each service fails alone</h2><p class=\"caption\">{}</p>\
         <table data-testid=\"fails-alone\"><tr><th>service</th><th>lost ({unit})</th><th>{bearer} ({unit})</th><th>knock-on backing ({unit})</th></tr>",
        esc(basis)
    );
    for fa in r.exposure.fails_alone.iter().take(60) {
        let bearers: Vec<String> = fa
            .losses
            .iter()
            .take(8)
            .map(|l| format!("{} −{}", l.validator, l.amount))
            .collect();
        let knock: Vec<String> = fa
            .knock_on
            .iter()
            .take(6)
            .map(|k| format!("{}: {} → {}", k.service, k.before, k.after))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&fa.service),
            esc(&fa.total.to_string()),
            esc(&bearers.join(", ")),
            esc(&knock.join(", "))
        );
    }
    h.push_str("</table>");
    stakers(&mut h, bearers, unit);
    for section in sections {
        h.push_str(section);
    }
    for n in &r.notes {
        let _ = write!(h, "<p class=\"muted\">note: {}</p>", esc(n));
    }
    h.push_str("</body></html>\n");
    h
}

fn loss_curve(h: &mut String, r: &Report) {
    let (w, ht, l, b) = (680.0, 340.0, 64.0, 44.0);
    let pts: Vec<(f64, Option<f64>, f64, Option<f64>)> = r
        .loss_curve
        .iter()
        .map(|p| {
            (
                p.psi.value.approx(),
                p.exact.as_ref().map(Exact::approx),
                p.lower.approx(),
                p.upper.as_ref().map(Exact::approx),
            )
        })
        .collect();
    if pts.is_empty() {
        h.push_str("<p class=\"muted\">no ψ requested</p>");
        return;
    }
    let xmax = pts.iter().map(|p| p.0).fold(0.0f64, f64::max).max(1e-9);
    let ymax = pts
        .iter()
        .map(|p| p.1.unwrap_or(p.2).max(p.3.unwrap_or(0.0)).min(1.0))
        .fold(0.0f64, f64::max)
        .max(xmax)
        .max(1e-9);
    let x = |v: f64| l + (w - l - 20.0) * v / xmax;
    let y = |v: f64| ht - b - (ht - b - 20.0) * v.min(ymax) / ymax;
    let _ = write!(
        h,
        "<svg width=\"{w}\" height=\"{ht}\" viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"loss curve\" data-testid=\"loss-curve\">"
    );
    let _ = write!(
        h,
        "<line x1=\"{l}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#444\"/><line x1=\"{l}\" y1=\"20\" x2=\"{l}\" y2=\"{0}\" stroke=\"#444\"/>",
        ht - b,
        w - 20.0
    );
    for k in 0..=4 {
        let (vx, vy) = (xmax * k as f64 / 4.0, ymax * k as f64 / 4.0);
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{:.1}%</text>",
            x(vx),
            ht - b + 16.0,
            100.0 * vx
        );
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{:.1}%</text>",
            l - 6.0,
            y(vy) + 4.0,
            100.0 * vy
        );
    }
    let _ = write!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">shock ψ: stake knocked out, % of the total stake</text>\
         <text transform=\"translate(14,{:.1}) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">worst-case loss, % of the total stake</text>",
        (l + w) / 2.0,
        ht - 8.0,
        (ht - b) / 2.0
    );
    // A step function: flat from each point to the next, stepping up there (never a slope between two points).
    let steps = |h: &mut String, ps: &[(f64, f64)], color: &str, extra: &str, testid: &str| {
        if ps.is_empty() {
            return;
        }
        let mut d = format!("M{:.1},{:.1}", x(ps[0].0), y(ps[0].1));
        for pair in ps.windows(2) {
            let _ = write!(d, " H{:.1} V{:.1}", x(pair[1].0), y(pair[1].1));
        }
        let _ = write!(d, " H{:.1}", x(xmax));
        let _ = write!(
            h,
            "<path data-testid=\"{testid}\" fill=\"none\" stroke=\"{color}\" {extra} d=\"{d}\"/>"
        );
        for &(a, v) in ps {
            let _ = write!(
                h,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{color}\"><title>ψ {:.3}%: {:.3}%</title></circle>",
                x(a),
                y(v),
                100.0 * a,
                100.0 * v
            );
        }
    };
    let _ = write!(
        h,
        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#bbb\" stroke-dasharray=\"2 3\"/>",
        x(0.0),
        y(0.0),
        x(xmax),
        y(xmax)
    );
    let lower: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.2)).collect();
    let upper: Vec<(f64, f64)> = pts.iter().filter_map(|p| p.3.map(|u| (p.0, u))).collect();
    let exact: Vec<(f64, f64)> = pts.iter().filter_map(|p| p.1.map(|e| (p.0, e))).collect();
    steps(
        h,
        &upper,
        "#e15759",
        "stroke-dasharray=\"5 4\"",
        "upper-bound",
    );
    steps(
        h,
        &lower,
        "#76b7b2",
        "stroke-dasharray=\"5 4\"",
        "lower-bound",
    );
    steps(h, &exact, "#4e79a7", "stroke-width=\"2\"", "exact-loss");
    let legend = [
        ("#4e79a7", "exact worst_case_loss"),
        ("#e15759", "certified upper bound"),
        ("#76b7b2", "certified lower bound"),
        ("#bbb", "loss = ψ (the shock alone)"),
    ];
    for (k, (c, t)) in legend.iter().enumerate() {
        let yy = 30.0 + 16.0 * k as f64;
        let _ = write!(
            h,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{c}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{t}</text>",
            l + 12.0,
            yy - 9.0,
            l + 26.0,
            yy
        );
    }
    h.push_str("</svg>");
    h.push_str(
        "<p class=\"caption\">The loss after a shock that knocks out validators worth ψ of the stake, plus the stake \
         an attack that becomes profitable then can take. It changes only where ψ reaches a new sum of validator \
         stakes, so it is exact between the points (computed there) and drawn as steps. The upper bound is the \
         smaller of the certificate's and ψ plus all services' profit over the stake (an attack never costs more \
         than what it earns, or it would not be profitable): at ψ = 0 that is the loss an attack could still cause \
         with no shock, which the exact search shows is 0 when no attack is profitable.</p>",
    );
}

/// Shade of a share in [0, 1]: white to red.
fn shade(frac: f64) -> f64 {
    0.08 + 0.92 * frac.clamp(0.0, 1.0)
}

fn heatmap(h: &mut String, r: &Report) {
    let mut services: Vec<_> = r.exposure.services.iter().collect();
    services.sort_by(|a, b| b.backing.cmp(&a.backing).then(a.id.cmp(&b.id)));
    services.truncate(30);
    let mut validators: Vec<_> = r.exposure.validators.iter().collect();
    validators.sort_by(|a, b| b.allocated.cmp(&a.allocated).then(a.id.cmp(&b.id)));
    validators.truncate(40);
    let stake: HashMap<&str, f64> = validators
        .iter()
        .map(|v| (v.id.as_str(), v.stake.approx()))
        .collect();
    let label = validators
        .iter()
        .map(|v| v.id.chars().count())
        .max()
        .unwrap_or(4) as f64;
    let (cw, ch, l, t) = (52.0, 26.0, 16.0 + 7.0 * label, 100.0);
    let (w, ht) = (
        (l + cw * services.len() as f64 + 30.0).max(l + 520.0),
        t + ch * validators.len() as f64 + 70.0,
    );
    let _ = write!(
        h,
        "<svg width=\"{w}\" height=\"{ht}\" viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"exposure heatmap\" data-testid=\"heatmap\">"
    );
    for (j, s) in services.iter().enumerate() {
        let cx = l + cw * j as f64 + cw / 2.0;
        let _ = write!(
            h,
            "<text transform=\"translate({cx:.1},{:.1}) rotate(-45)\" font-size=\"12\">{}</text>",
            t - 6.0,
            esc(&s.id)
        );
    }
    for (i, v) in validators.iter().enumerate() {
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\">{}</text>",
            l - 6.0,
            t + ch * i as f64 + ch / 2.0 + 4.0,
            esc(&v.id)
        );
    }
    let row: HashMap<&str, usize> = validators
        .iter()
        .enumerate()
        .map(|(i, v)| (v.id.as_str(), i))
        .collect();
    for (j, s) in services.iter().enumerate() {
        for b in &s.backers {
            if let Some(&i) = row.get(b.validator.as_str()) {
                let frac = (b.amount.approx()
                    / stake.get(b.validator.as_str()).copied().unwrap_or(1.0))
                .clamp(0.0, 1.0);
                let (cx, cy) = (l + cw * j as f64, t + ch * i as f64);
                let _ = write!(
                    h,
                    "<rect data-testid=\"heat-cell\" x=\"{cx:.1}\" y=\"{cy:.1}\" width=\"{}\" height=\"{}\" fill=\"#c62828\" fill-opacity=\"{:.3}\" stroke=\"#eee\"><title>{} → {}: {} ({:.1}% of its stake)</title></rect>\
                     <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{}\">{:.0}%</text>",
                    cw - 2.0,
                    ch - 2.0,
                    shade(frac),
                    esc(&b.validator),
                    esc(&s.id),
                    esc(&b.amount.to_string()),
                    100.0 * frac,
                    cx + cw / 2.0 - 1.0,
                    cy + ch / 2.0 + 3.0,
                    if shade(frac) > 0.55 { "#fff" } else { "#222" },
                    100.0 * frac
                );
            }
        }
    }
    // The colour scale: 0% to 100% of a validator's stake backing the service.
    let (sx, sy, sw) = (l, t + ch * validators.len() as f64 + 24.0, 200.0);
    let _ = write!(
        h,
        "<defs><linearGradient id=\"heat-scale\"><stop offset=\"0\" stop-color=\"#c62828\" stop-opacity=\"{:.2}\"/>\
         <stop offset=\"1\" stop-color=\"#c62828\" stop-opacity=\"1\"/></linearGradient></defs>\
         <rect data-testid=\"heat-scale\" x=\"{sx:.1}\" y=\"{sy:.1}\" width=\"{sw}\" height=\"10\" fill=\"url(#heat-scale)\" stroke=\"#ccc\"/>\
         <text x=\"{sx:.1}\" y=\"{:.1}\" font-size=\"11\">0%</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">50%</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">100% of the validator's stake backs the service</text>",
        shade(0.0),
        sy + 24.0,
        sx + sw / 2.0,
        sy + 24.0,
        sx + sw + 260.0,
        sy + 24.0
    );
    h.push_str("</svg><p class=\"caption\">Each cell: the share of the validator's stake (row) allocated to the service \
                (column), w<sub>is</sub> / stake<sub>i</sub>. A row adding up to more than 100% is stake restaked \
                several times.</p>");
}

fn backing(h: &mut String, r: &Report, unit: &str) {
    let colour = colours(r);
    let mut services: Vec<_> = r.exposure.services.iter().collect();
    services.sort_by(|a, b| b.backing.cmp(&a.backing).then(a.id.cmp(&b.id)));
    services.truncate(40);
    let max = services
        .iter()
        .map(|s| s.backing.approx())
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let (l, bw, bh) = (90.0, 520.0, 18.0);
    let ht = 20.0 + (bh + 6.0) * services.len() as f64;
    let w = l + bw + 220.0;
    let _ = write!(
        h,
        "<svg width=\"{w}\" height=\"{ht}\" viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"backing per service\" data-testid=\"backing\">"
    );
    for (k, s) in services.iter().enumerate() {
        let y = 10.0 + (bh + 6.0) * k as f64;
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\">{}</text>",
            l - 6.0,
            y + bh - 5.0,
            esc(&s.id)
        );
        let mut x = l;
        let total = s.backing.approx();
        for b in &s.backers {
            let width = bw * b.amount.approx() / max;
            let _ = write!(
                h,
                "<rect data-testid=\"backing-bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.2}\" height=\"{bh}\" fill=\"{}\" stroke=\"#fff\"><title>{}: {} {unit}</title></rect>",
                colour.get(&b.validator).map_or("#999", String::as_str),
                esc(&b.validator),
                esc(&b.amount.to_string())
            );
            x += width;
        }
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{} {unit} (θ {}, profit {} {unit})</text>",
            l + bw * total / max + 6.0,
            y + bh - 5.0,
            esc(&s.backing.to_string()),
            esc(&s.threshold.to_string()),
            esc(&s.profit.to_string())
        );
    }
    h.push_str("</svg><p class=\"legend\" data-testid=\"backing-legend\">");
    let mut ids: Vec<(&String, &String)> = colour.iter().collect();
    ids.sort();
    for (id, c) in ids {
        let _ = write!(
            h,
            "<span><i style=\"background:{c}\"></i>{}</span>",
            esc(id)
        );
    }
    let _ = write!(
        h,
        "</p><p class=\"caption\">Each bar: a service's backing in {unit}, one segment per validator (colour as in \
         the legend), its length the stake the validator allocates to it.</p>"
    );
}

/// Who bears each service failing alone, per staker (when the caller knows the stakers).
fn stakers(h: &mut String, bearers: &[Bearers], unit: &str) {
    if bearers.iter().all(|b| b.stakers.is_empty()) {
        return;
    }
    let _ = write!(
        h,
        "<h2>Per staker: what each one loses when a service fails alone</h2>\
         <table data-testid=\"stakers\"><tr><th>service fails alone</th><th>pools lose ({unit})</th><th>staker</th><th>loses ({unit})</th></tr>"
    );
    for b in bearers {
        let pools: Vec<String> = b.pools.iter().map(|(p, q)| format!("{p}: {q}")).collect();
        let rows = b.stakers.len().max(1);
        for (k, (staker, loss)) in b.stakers.iter().enumerate() {
            h.push_str("<tr>");
            if k == 0 {
                let _ = write!(
                    h,
                    "<td rowspan=\"{rows}\">{}</td><td rowspan=\"{rows}\">{}</td>",
                    esc(&b.service),
                    esc(&pools.join(", "))
                );
            }
            let shown = if loss.is_integer() {
                loss.to_string()
            } else {
                format!("{loss} (≈{:.4})", loss.approx())
            };
            let _ = write!(
                h,
                "<td>{}</td><td class=\"num\">{}</td></tr>",
                esc(staker),
                esc(&shown)
            );
        }
    }
    h.push_str("</table>");
}
