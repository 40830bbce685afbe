//! A self-contained HTML report: inline CSS and SVG only (no script, no network). Charts: the exposure heatmap
//! (validators × services, shaded by w_is / stake), the loss curve ψ → worst_case_loss (exact points, certified
//! bounds, the certificate's line) and the per-service backing breakdown.

use std::{collections::HashMap, fmt::Write};

use crate::{number, report::Report};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn val(s: &str) -> f64 {
    number::parse(s).map(|q| number::approx(&q)).unwrap_or(0.0)
}

const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f",
];

/// Renders the report as one HTML page.
pub fn render(r: &Report, title: &str) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Bulkhead audit: {t}</title><style>\
         body{{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}}\
         table{{border-collapse:collapse;margin:.5em 0 1.5em}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}}\
         th{{background:#f3f3f3}}.ok{{color:#1a7f37;font-weight:600}}.bad{{color:#c62828;font-weight:600}}.muted{{color:#777}}\
         svg{{background:#fff;border:1px solid #ddd;margin:.5em 0 1.5em}}</style></head><body>\
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
            "{} validators, {} services, total stake {}, total profit {}",
            r.network.validators, r.network.services, r.network.total_stake, r.network.total_profit
        ),
    );
    if let Some(v) = &r.max_attack_profit {
        row(&mut h, "max_attack_profit", v);
    } else if let Some(i) = &r.bounds.max_attack_profit {
        row(
            &mut h,
            "max_attack_profit (certified bounds)",
            &format!("[{}, {}]", i.lower, i.upper.as_deref().unwrap_or("?")),
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
        r.certificate.gamma.as_deref().unwrap_or("none"),
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
            esc(&a.profit),
            esc(&a.cost)
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
    backing(&mut h, r);
    h.push_str("<h2>Who bears the risk when each service fails alone</h2><table><tr><th>service</th><th>lost</th><th>bearers</th><th>knock-on backing</th></tr>");
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
            esc(&fa.total),
            esc(&bearers.join(", ")),
            esc(&knock.join(", "))
        );
    }
    h.push_str("</table>");
    for n in &r.notes {
        let _ = write!(h, "<p class=\"muted\">note: {}</p>", esc(n));
    }
    h.push_str("</body></html>\n");
    h
}

fn loss_curve(h: &mut String, r: &Report) {
    let (w, ht, l, b) = (640.0, 320.0, 60.0, 40.0);
    let pts: Vec<(f64, Option<f64>, f64, Option<f64>)> = r
        .loss_curve
        .iter()
        .map(|p| {
            (
                val(&p.psi),
                p.exact.as_deref().map(val),
                val(&p.lower),
                p.upper.as_deref().map(val),
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
        "<svg width=\"{w}\" height=\"{ht}\" viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"loss curve\">"
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
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">shock ψ (share of stake)</text>",
        (l + w) / 2.0,
        ht - 6.0
    );
    let line = |h: &mut String, ps: &[(f64, f64)], color: &str, extra: &str| {
        if ps.len() > 1 {
            let d: Vec<String> = ps
                .iter()
                .map(|&(a, v)| format!("{:.1},{:.1}", x(a), y(v)))
                .collect();
            let _ = write!(
                h,
                "<polyline fill=\"none\" stroke=\"{color}\" {extra} points=\"{}\"/>",
                d.join(" ")
            );
        }
        for &(a, v) in ps {
            let _ = write!(
                h,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{color}\"/>",
                x(a),
                y(v)
            );
        }
    };
    let diag: Vec<(f64, f64)> = vec![(0.0, 0.0), (xmax, xmax)];
    line(h, &diag, "#bbb", "stroke-dasharray=\"2 3\"");
    let lower: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.2)).collect();
    let upper: Vec<(f64, f64)> = pts.iter().filter_map(|p| p.3.map(|u| (p.0, u))).collect();
    let exact: Vec<(f64, f64)> = pts.iter().filter_map(|p| p.1.map(|e| (p.0, e))).collect();
    line(h, &upper, "#e15759", "stroke-dasharray=\"5 4\"");
    line(h, &lower, "#76b7b2", "stroke-dasharray=\"5 4\"");
    line(h, &exact, "#4e79a7", "stroke-width=\"2\"");
    let legend = [
        ("#4e79a7", "exact worst_case_loss"),
        ("#e15759", "certified upper bound"),
        ("#76b7b2", "certified lower bound"),
        ("#bbb", "loss = ψ"),
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
}

fn heatmap(h: &mut String, r: &Report) {
    let mut services: Vec<_> = r.exposure.services.iter().collect();
    services.sort_by(|a, b| {
        val(&b.backing)
            .total_cmp(&val(&a.backing))
            .then(a.id.cmp(&b.id))
    });
    services.truncate(30);
    let mut validators: Vec<_> = r.exposure.validators.iter().collect();
    validators.sort_by(|a, b| {
        val(&b.allocated)
            .total_cmp(&val(&a.allocated))
            .then(a.id.cmp(&b.id))
    });
    validators.truncate(40);
    let stake: HashMap<&str, f64> = validators
        .iter()
        .map(|v| (v.id.as_str(), val(&v.stake)))
        .collect();
    let (cw, ch, l, t) = (18.0, 14.0, 90.0, 90.0);
    let (w, ht) = (
        l + cw * services.len() as f64 + 20.0,
        t + ch * validators.len() as f64 + 20.0,
    );
    let _ = write!(
        h,
        "<svg width=\"{w}\" height=\"{ht}\" viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"exposure heatmap\">"
    );
    for (j, s) in services.iter().enumerate() {
        let cx = l + cw * j as f64 + cw / 2.0;
        let _ = write!(
            h,
            "<text transform=\"translate({cx:.1},{:.1}) rotate(-60)\" font-size=\"10\">{}</text>",
            t - 4.0,
            esc(&s.id)
        );
    }
    for (i, v) in validators.iter().enumerate() {
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            l - 4.0,
            t + ch * i as f64 + ch - 3.0,
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
                let frac = (val(&b.amount)
                    / stake.get(b.validator.as_str()).copied().unwrap_or(1.0))
                .clamp(0.0, 1.0);
                let _ = write!(
                    h,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{}\" height=\"{}\" fill=\"#c62828\" fill-opacity=\"{:.3}\" stroke=\"#eee\"><title>{} → {}: {} ({:.0}% of stake)</title></rect>",
                    l + cw * j as f64,
                    t + ch * i as f64,
                    cw - 1.0,
                    ch - 1.0,
                    0.1 + 0.9 * frac,
                    esc(&b.validator),
                    esc(&s.id),
                    esc(&b.amount),
                    100.0 * frac
                );
            }
        }
    }
    h.push_str("</svg>");
}

fn backing(h: &mut String, r: &Report) {
    let mut services: Vec<_> = r.exposure.services.iter().collect();
    services.sort_by(|a, b| {
        val(&b.backing)
            .total_cmp(&val(&a.backing))
            .then(a.id.cmp(&b.id))
    });
    services.truncate(40);
    let max = services
        .iter()
        .map(|s| val(&s.backing))
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let (l, bw, bh) = (90.0, 520.0, 16.0);
    let ht = 20.0 + (bh + 4.0) * services.len() as f64;
    let w = l + bw + 140.0;
    let _ = write!(
        h,
        "<svg width=\"{w}\" height=\"{ht}\" viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"backing per service\">"
    );
    for (k, s) in services.iter().enumerate() {
        let y = 10.0 + (bh + 4.0) * k as f64;
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            l - 4.0,
            y + bh - 4.0,
            esc(&s.id)
        );
        let mut x = l;
        let total = val(&s.backing);
        for (n, b) in s.backers.iter().enumerate() {
            let part = if n < 7 {
                val(&b.amount)
            } else {
                s.backers[7..].iter().map(|b| val(&b.amount)).sum()
            };
            let width = bw * part / max;
            let label = if n < 7 {
                format!("{}: {}", b.validator, b.amount)
            } else {
                format!("{} others", s.backers.len() - 7)
            };
            let _ = write!(
                h,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.2}\" height=\"{bh}\" fill=\"{}\"><title>{}</title></rect>",
                PALETTE[n % PALETTE.len()],
                esc(&label)
            );
            x += width;
            if n >= 7 {
                break;
            }
        }
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{} (θ {}, profit {})</text>",
            l + bw * total / max + 6.0,
            y + bh - 4.0,
            esc(&s.backing),
            esc(&s.threshold),
            esc(&s.profit)
        );
    }
    h.push_str("</svg>");
}
