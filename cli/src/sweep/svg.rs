//! A small SVG writer and the sweep's figure: variance of partitions per node (left axis,
//! orange) and collision probability (right axis, blue: the formula as a line, the
//! measured fraction as markers with 95% intervals) against vnodes per node.

use std::fmt::{Display, Write as _};

use shoal_core::partition::collision_probability;

use super::{Row, SweepConfig};

/// Attributes of an element: names are trusted literals, values are escaped.
pub type Attrs<'a> = &'a [(&'static str, &'a dyn Display)];

/// Escapes text for XML character data and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Builds an SVG document element by element; every opened element is closed by
/// [`Svg::close`] or at the latest by [`Svg::finish`], so the output is always balanced.
pub struct Svg {
    out: String,
    open: Vec<&'static str>,
}

impl Svg {
    /// Opens the root `<svg>` element.
    pub fn new(width: f64, height: f64, attrs: Attrs) -> Self {
        let mut svg = Svg {
            out: String::new(),
            open: Vec::new(),
        };
        let view_box = format!("0 0 {width} {height}");
        let mut all: Vec<(&'static str, &dyn Display)> = vec![
            ("xmlns", &"http://www.w3.org/2000/svg"),
            ("width", &width),
            ("height", &height),
            ("viewBox", &view_box),
        ];
        all.extend_from_slice(attrs);
        svg.open("svg", &all);
        svg
    }

    fn start(&mut self, tag: &str, attrs: Attrs) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attrs {
            let _ = write!(self.out, " {name}=\"{}\"", escape(&value.to_string()));
        }
    }

    /// Opens an element that will hold children.
    pub fn open(&mut self, tag: &'static str, attrs: Attrs) {
        self.start(tag, attrs);
        self.out.push_str(">\n");
        self.open.push(tag);
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) {
        if let Some(tag) = self.open.pop() {
            for _ in 0..self.open.len() {
                self.out.push_str("  ");
            }
            let _ = writeln!(self.out, "</{tag}>");
        }
    }

    /// An element without children.
    pub fn leaf(&mut self, tag: &str, attrs: Attrs) {
        self.start(tag, attrs);
        self.out.push_str("/>\n");
    }

    /// An element holding only text.
    pub fn text(&mut self, tag: &str, attrs: Attrs, text: &str) {
        self.start(tag, attrs);
        let _ = writeln!(self.out, ">{}</{tag}>", escape(text));
    }

    /// Closes every open element and returns the document.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

/// A coordinate rounded to 0.01 px, to keep the file small.
fn px(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// A "nice" step (1, 2, 2.5 or 5 times a power of ten) at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let f = raw / magnitude;
    let nice = [1.0, 2.0, 2.5, 5.0]
        .into_iter()
        .find(|&n| f <= n + 1e-9)
        .unwrap_or(10.0);
    nice * magnitude
}

/// Label of tick `v` on an axis with ticks every `step`: thousands as `k` once the step
/// is at least 1000, and just enough decimals to tell ticks apart.
fn tick_label(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let (v, step, suffix) = if step >= 1000.0 {
        (v / 1000.0, step / 1000.0, "k")
    } else {
        (v, step, "")
    };
    let decimals = (0..6)
        .find(|&d| {
            let scaled = step * 10f64.powi(d);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(6) as usize;
    format!("{v:.decimals$}{suffix}")
}

/// Linear map from data range `[d0, d1]` to pixel range `[p0, p1]`.
#[derive(Clone, Copy)]
struct Scale {
    d0: f64,
    d1: f64,
    p0: f64,
    p1: f64,
}

impl Scale {
    fn at(&self, v: f64) -> f64 {
        px(self.p0 + (v - self.d0) / (self.d1 - self.d0) * (self.p1 - self.p0))
    }
}

const ORANGE: &str = "#ff7f0e";
const ORANGE_TEXT: &str = "#c45a00";
const BLUE: &str = "#1f77b4";
const GREY: &str = "#444444";

/// The figure for a sweep.
pub fn figure(cfg: &SweepConfig, rows: &[Row]) -> String {
    let (width, height) = (860.0, 600.0);
    let (left, right, top, bottom) = (100.0, 770.0, 78.0, 440.0);

    let (mut v0, mut v1) = (f64::from(cfg.vnodes.first), f64::from(cfg.vnodes.last));
    if v0 == v1 {
        v0 -= 1.0;
        v1 += 1.0;
    }
    let x = Scale {
        d0: v0,
        d1: v1,
        p0: left,
        p1: right,
    };
    let var_max = rows.iter().map(|r| r.variance).fold(1.0, f64::max);
    let var_step = nice_step(var_max / 6.0);
    let var_top = ((var_max / var_step).ceil() * var_step).max(var_step);
    let yv = Scale {
        d0: 0.0,
        d1: var_top,
        p0: bottom,
        p1: top,
    };
    let yp = Scale {
        d0: 0.0,
        d1: 1.0,
        p0: bottom,
        p1: top,
    };

    let mut svg = Svg::new(
        width,
        height,
        &[
            ("font-family", &"Helvetica, Arial, sans-serif"),
            ("font-size", &12),
        ],
    );
    svg.text(
        "title",
        &[],
        "shoal partitions sweep: variance and collision probability vs vnodes",
    );
    svg.leaf(
        "rect",
        &[("width", &width), ("height", &height), ("fill", &"white")],
    );
    let mid = (left + right) / 2.0;
    svg.text(
        "text",
        &[
            ("x", &mid),
            ("y", &30),
            ("text-anchor", &"middle"),
            ("font-size", &18),
            ("font-weight", &"bold"),
        ],
        "Partitions per node: variance and collision probability vs vnodes",
    );
    svg.text(
        "text",
        &[
            ("x", &mid),
            ("y", &52),
            ("text-anchor", &"middle"),
            ("font-size", &13),
            ("fill", &GREY),
        ],
        &format!(
            "P = {} partitions, {} nodes, {} trials per point (seed {}), classic claims: partition = HASH(id, v) mod P",
            cfg.partitions, cfg.nodes, cfg.trials, cfg.seed
        ),
    );

    // Vertical grid and x ticks.
    let x_step = nice_step((v1 - v0) / 8.0).max(1.0);
    let x_ticks: Vec<f64> = {
        let mut t = (v0 / x_step).ceil() * x_step;
        let mut ticks = Vec::new();
        while t <= v1 + 1e-9 {
            ticks.push(t);
            t += x_step;
        }
        ticks
    };
    svg.open("g", &[("id", &"grid"), ("stroke", &"#e6e6e6")]);
    for &t in &x_ticks {
        let xp = x.at(t);
        svg.leaf(
            "line",
            &[("x1", &xp), ("y1", &top), ("x2", &xp), ("y2", &bottom)],
        );
    }
    let mut t = var_step;
    while t <= var_top + 1e-9 {
        let yp_ = yv.at(t);
        svg.leaf(
            "line",
            &[("x1", &left), ("y1", &yp_), ("x2", &right), ("y2", &yp_)],
        );
        t += var_step;
    }
    svg.close();

    // Reference line at probability 0.9 (the source's "about 90% near 15 vnodes").
    let y90 = yp.at(0.9);
    svg.leaf(
        "line",
        &[
            ("x1", &left),
            ("y1", &y90),
            ("x2", &right),
            ("y2", &y90),
            ("stroke", &BLUE),
            ("stroke-opacity", &0.5),
            ("stroke-dasharray", &"5 4"),
        ],
    );
    svg.text(
        "text",
        &[
            ("x", &(right - 4.0)),
            ("y", &(y90 + 14.0)),
            ("text-anchor", &"end"),
            ("fill", &BLUE),
            ("font-size", &11),
        ],
        "probability 0.9",
    );

    // Axes.
    svg.open(
        "g",
        &[("id", &"axes"), ("stroke", &GREY), ("fill", &"none")],
    );
    svg.leaf(
        "rect",
        &[
            ("x", &left),
            ("y", &top),
            ("width", &(right - left)),
            ("height", &(bottom - top)),
        ],
    );
    svg.close();

    // x axis ticks: major with labels, minor at every integer vnode count.
    svg.open("g", &[("id", &"x-axis"), ("fill", &GREY)]);
    if v1 - v0 <= 100.0 {
        for v in cfg.vnodes.iter() {
            let xp = x.at(f64::from(v));
            svg.leaf(
                "line",
                &[
                    ("x1", &xp),
                    ("y1", &bottom),
                    ("x2", &xp),
                    ("y2", &(bottom + 3.0)),
                    ("stroke", &GREY),
                ],
            );
        }
    }
    for &t in &x_ticks {
        let xp = x.at(t);
        svg.leaf(
            "line",
            &[
                ("x1", &xp),
                ("y1", &bottom),
                ("x2", &xp),
                ("y2", &(bottom + 6.0)),
                ("stroke", &GREY),
            ],
        );
        svg.text(
            "text",
            &[
                ("x", &xp),
                ("y", &(bottom + 20.0)),
                ("text-anchor", &"middle"),
            ],
            &tick_label(t, x_step),
        );
    }
    svg.text(
        "text",
        &[
            ("x", &mid),
            ("y", &(bottom + 44.0)),
            ("text-anchor", &"middle"),
            ("font-size", &14),
        ],
        "vnodes per node",
    );
    svg.close();

    // Left axis: variance.
    svg.open("g", &[("id", &"y-axis-variance"), ("fill", &ORANGE_TEXT)]);
    let mut t = 0.0;
    while t <= var_top + 1e-9 {
        let y = yv.at(t);
        svg.leaf(
            "line",
            &[
                ("x1", &(left - 6.0)),
                ("y1", &y),
                ("x2", &left),
                ("y2", &y),
                ("stroke", &GREY),
            ],
        );
        svg.text(
            "text",
            &[
                ("x", &(left - 9.0)),
                ("y", &(y + 4.0)),
                ("text-anchor", &"end"),
            ],
            &tick_label(t, var_step),
        );
        t += var_step;
    }
    let cy = (top + bottom) / 2.0;
    let rotate = format!("rotate(-90 {} {cy})", left - 62.0);
    svg.text(
        "text",
        &[
            ("x", &(left - 62.0)),
            ("y", &cy),
            ("transform", &rotate),
            ("text-anchor", &"middle"),
            ("font-size", &14),
        ],
        "variance of partitions per node",
    );
    svg.close();

    // Right axis: probability.
    svg.open("g", &[("id", &"y-axis-probability"), ("fill", &BLUE)]);
    for i in 0..=5 {
        let p = f64::from(i) * 0.2;
        let y = yp.at(p);
        svg.leaf(
            "line",
            &[
                ("x1", &right),
                ("y1", &y),
                ("x2", &(right + 6.0)),
                ("y2", &y),
                ("stroke", &GREY),
            ],
        );
        svg.text(
            "text",
            &[("x", &(right + 9.0)), ("y", &(y + 4.0))],
            &format!("{p:.1}"),
        );
    }
    let rotate = format!("rotate(90 {} {cy})", right + 52.0);
    svg.text(
        "text",
        &[
            ("x", &(right + 52.0)),
            ("y", &cy),
            ("transform", &rotate),
            ("text-anchor", &"middle"),
            ("font-size", &14),
        ],
        "probability of at least one claim collision",
    );
    svg.close();

    // Series: variance (orange line with points).
    let points: Vec<String> = rows
        .iter()
        .map(|r| format!("{},{}", x.at(f64::from(r.vnodes)), yv.at(r.variance)))
        .collect();
    svg.open("g", &[("id", &"variance"), ("fill", &ORANGE)]);
    svg.leaf(
        "polyline",
        &[
            ("points", &points.join(" ")),
            ("fill", &"none"),
            ("stroke", &ORANGE),
            ("stroke-width", &2),
            ("stroke-linejoin", &"round"),
        ],
    );
    for r in rows {
        svg.open(
            "circle",
            &[
                ("cx", &x.at(f64::from(r.vnodes))),
                ("cy", &yv.at(r.variance)),
                ("r", &3),
            ],
        );
        svg.text(
            "title",
            &[],
            &format!("V = {}: variance {:.1}", r.vnodes, r.variance),
        );
        svg.close();
    }
    svg.close();

    // Series: the formula (blue line), sampled at integer claim counts between points.
    let nodes = u64::from(cfg.nodes);
    let (x_lo, x_hi) = (
        nodes * u64::from(cfg.vnodes.first),
        nodes * u64::from(cfg.vnodes.last),
    );
    let samples = (x_hi - x_lo).clamp(1, 400);
    let mut curve = Vec::new();
    let mut last_claims = None;
    for i in 0..=samples {
        let claims = x_lo + (x_hi - x_lo) * i / samples;
        if last_claims == Some(claims) {
            continue;
        }
        last_claims = Some(claims);
        let v = claims as f64 / nodes as f64;
        curve.push(format!(
            "{},{}",
            x.at(v),
            yp.at(collision_probability(cfg.partitions, claims))
        ));
    }
    svg.open("g", &[("id", &"formula")]);
    svg.leaf(
        "polyline",
        &[
            ("points", &curve.join(" ")),
            ("fill", &"none"),
            ("stroke", &BLUE),
            ("stroke-width", &2),
            ("stroke-linejoin", &"round"),
        ],
    );
    svg.close();

    // Series: measured fraction (hollow blue markers with 95% binomial intervals).
    let trials = f64::from(cfg.trials);
    svg.open("g", &[("id", &"measured"), ("stroke", &BLUE)]);
    for r in rows {
        let p = r.collision_fraction;
        let half = 1.96 * (p * (1.0 - p) / trials).sqrt();
        let xp = x.at(f64::from(r.vnodes));
        if half > 0.0 {
            svg.leaf(
                "line",
                &[
                    ("x1", &xp),
                    ("y1", &yp.at((p - half).max(0.0))),
                    ("x2", &xp),
                    ("y2", &yp.at((p + half).min(1.0))),
                    ("stroke-width", &1),
                ],
            );
        }
        svg.open(
            "rect",
            &[
                ("x", &px(xp - 3.5)),
                ("y", &px(yp.at(p) - 3.5)),
                ("width", &7),
                ("height", &7),
                ("fill", &"white"),
                ("stroke-width", &1.5),
            ],
        );
        svg.text(
            "title",
            &[],
            &format!(
                "V = {}: measured {:.3}, formula {:.3}, mean collisions {:.2}",
                r.vnodes, p, r.predicted, r.collisions_mean
            ),
        );
        svg.close();
    }
    svg.close();

    // Legend, below the plot.
    let lx = left;
    let ly = bottom + 76.0;
    svg.open("g", &[("id", &"legend"), ("font-size", &13)]);
    svg.leaf(
        "line",
        &[
            ("x1", &lx),
            ("y1", &ly),
            ("x2", &(lx + 30.0)),
            ("y2", &ly),
            ("stroke", &ORANGE),
            ("stroke-width", &2),
        ],
    );
    svg.leaf(
        "circle",
        &[
            ("cx", &(lx + 15.0)),
            ("cy", &ly),
            ("r", &3),
            ("fill", &ORANGE),
        ],
    );
    svg.text(
        "text",
        &[("x", &(lx + 40.0)), ("y", &(ly + 4.0))],
        "variance of partitions per node, classic table, mean over trials (left axis)",
    );
    let ly = ly + 22.0;
    svg.leaf(
        "line",
        &[
            ("x1", &lx),
            ("y1", &ly),
            ("x2", &(lx + 30.0)),
            ("y2", &ly),
            ("stroke", &BLUE),
            ("stroke-width", &2),
        ],
    );
    svg.text(
        "text",
        &[("x", &(lx + 40.0)), ("y", &(ly + 4.0))],
        "collision probability, formula ε ≈ 1 − (N/(N−x))^(N−x+½) / e^x, N = P, x = nodes × vnodes (right axis)",
    );
    let ly = ly + 22.0;
    svg.leaf(
        "line",
        &[
            ("x1", &(lx + 15.0)),
            ("y1", &(ly - 8.0)),
            ("x2", &(lx + 15.0)),
            ("y2", &(ly + 8.0)),
            ("stroke", &BLUE),
        ],
    );
    svg.leaf(
        "rect",
        &[
            ("x", &(lx + 11.5)),
            ("y", &(ly - 3.5)),
            ("width", &7),
            ("height", &7),
            ("fill", &"white"),
            ("stroke", &BLUE),
            ("stroke-width", &1.5),
        ],
    );
    svg.text(
        "text",
        &[("x", &(lx + 40.0)), ("y", &(ly + 4.0))],
        "measured fraction of trials with at least one collision, with 95% interval (right axis)",
    );
    svg.close();

    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::super::{sweep, VnodeRange};
    use super::*;

    /// Checks that tags nest properly (ignoring comments, declarations and
    /// self-closing elements) and that every `&` starts an entity. Returns the
    /// element count.
    fn check_xml(doc: &str) -> Result<usize, String> {
        let mut stack: Vec<&str> = Vec::new();
        let mut elements = 0;
        let mut rest = doc;
        while let Some(at) = rest.find('<') {
            let text = &rest[..at];
            for (i, _) in text.match_indices('&') {
                let entity = &text[i..];
                if !["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| entity.starts_with(e))
                {
                    return Err(format!("bare & in {text:?}"));
                }
            }
            if text.contains('>') {
                return Err(format!("stray > in {text:?}"));
            }
            let end = rest[at..].find('>').ok_or("unterminated tag")? + at;
            let tag = &rest[at + 1..end];
            if let Some(name) = tag.strip_prefix('/') {
                match stack.pop() {
                    Some(open) if open == name.trim() => {}
                    other => return Err(format!("</{name}> closes {other:?}")),
                }
            } else if !tag.starts_with('!') && !tag.starts_with('?') {
                elements += 1;
                if tag.matches('"').count() % 2 != 0 {
                    return Err(format!("unbalanced quotes in <{tag}>"));
                }
                if !tag.ends_with('/') {
                    let name = tag.split_whitespace().next().ok_or("empty tag")?;
                    stack.push(name);
                }
            }
            rest = &rest[end + 1..];
        }
        if !rest.trim().is_empty() {
            return Err(format!("text after the root: {rest:?}"));
        }
        match stack.is_empty() {
            true => Ok(elements),
            false => Err(format!("unclosed {stack:?}")),
        }
    }

    #[test]
    fn writer_escapes_and_balances() {
        let mut svg = Svg::new(10.0, 10.0, &[("data-x", &"a\"b<c>&'")]);
        svg.open("g", &[]);
        svg.text("text", &[("x", &1.5)], "x < y && y > \"z\"");
        svg.leaf("circle", &[("r", &2)]);
        let doc = svg.finish();
        assert!(doc.contains("data-x=\"a&quot;b&lt;c&gt;&amp;&apos;\""));
        assert!(doc.contains(">x &lt; y &amp;&amp; y &gt; &quot;z&quot;</text>"));
        assert!(doc.trim_end().ends_with("</svg>"));
        assert_eq!(check_xml(&doc), Ok(4));
        assert!(check_xml("<svg><g></svg></g>").is_err());
        assert!(check_xml("<svg>a & b</svg>").is_err());
        assert!(check_xml("<svg><g>").is_err());
    }

    #[test]
    fn nice_steps_and_labels() {
        assert_eq!(nice_step(3.6), 5.0);
        assert_eq!(nice_step(0.13), 0.2);
        assert_eq!(nice_step(23_000.0), 25_000.0);
        assert_eq!(nice_step(26_000.0), 50_000.0);
        assert_eq!(nice_step(10.0), 10.0);
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(tick_label(0.0, 25_000.0), "0");
        assert_eq!(tick_label(40_000.0, 20_000.0), "40k");
        assert_eq!(tick_label(75_000.0, 25_000.0), "75k");
        assert_eq!(tick_label(5_000.0, 2_500.0), "5.0k");
        assert_eq!(tick_label(15.0, 5.0), "15");
        assert_eq!(tick_label(0.5, 0.25), "0.50");
        assert_eq!(tick_label(0.4, 0.2), "0.4");
    }

    #[test]
    fn figure_is_wellformed_and_has_every_series() {
        let cfg = SweepConfig {
            partitions: 1024,
            nodes: 8,
            vnodes: VnodeRange { first: 1, last: 12 },
            trials: 10,
            seed: 3,
            threads: 0,
        };
        let rows = sweep(&cfg, &indicatif::ProgressBar::hidden()).unwrap();
        let doc = figure(&cfg, &rows);
        assert!(doc.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(check_xml(&doc).unwrap() > 100);
        for id in ["variance", "formula", "measured", "legend", "x-axis"] {
            assert!(doc.contains(&format!("id=\"{id}\"")), "missing {id}");
        }
        // One variance point and one measured marker per vnode count.
        let section = |id: &str| {
            let start = doc.find(&format!("id=\"{id}\"")).unwrap();
            let len = doc[start..].find("\n  </g>").unwrap();
            doc[start..start + len].to_string()
        };
        assert_eq!(section("variance").matches("<circle").count(), 12);
        assert_eq!(section("measured").matches("<rect").count(), 12);
        assert!(section("formula").contains("<polyline"));
        assert!(doc.contains("P = 1024 partitions, 8 nodes, 10 trials"));
        assert!(doc.contains("vnodes per node"));
    }

    #[test]
    fn figure_handles_a_single_vnode_count() {
        let cfg = SweepConfig {
            partitions: 64,
            nodes: 1,
            vnodes: VnodeRange { first: 5, last: 5 },
            trials: 2,
            seed: 0,
            threads: 1,
        };
        let rows = sweep(&cfg, &indicatif::ProgressBar::hidden()).unwrap();
        let doc = figure(&cfg, &rows);
        assert!(check_xml(&doc).is_ok());
        assert!(!doc.contains("NaN") && !doc.contains("inf"));
    }
}
