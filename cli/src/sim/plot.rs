//! Hand-written SVG figures for `shoal sim grid`: rounds to full convergence against
//! cluster size (log x axis), and the empirical CDF of crash detection times.
//!
//! The figures take plain data ([`RoundsFigure`], [`CdfFigure`]) so that the drawing
//! does not depend on how the grid was run.

use std::fmt::{self, Display, Write as _};

use crate::sweep::svg::escape;

/// Colour of axes, tick labels and text.
const INK: &str = "#333333";
/// Colour of grid lines.
const GRID: &str = "#e3e3e3";
/// Grey of the reference curves.
pub const REFERENCE: &str = "#8c8c8c";

/// A pixel coordinate, written with at most one decimal.
#[derive(Clone, Copy)]
struct Px(f64);

impl Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = (self.0 * 10.0).round() / 10.0;
        if v == v.trunc() {
            write!(f, "{}", v as i64)
        } else {
            write!(f, "{v:.1}")
        }
    }
}

/// An SVG document under construction. Elements are started with [`Doc::tag`] and
/// finished on the returned [`Tag`]; groups stay open until [`Doc::end`] or
/// [`Doc::finish`], so the output is always balanced.
struct Doc {
    out: String,
    open: Vec<&'static str>,
}

/// An element whose start tag is being written: add attributes, then finish it with
/// [`Tag::empty`], [`Tag::text`] or [`Tag::group`].
struct Tag<'d> {
    doc: &'d mut Doc,
    name: &'static str,
}

impl Tag<'_> {
    /// Adds an attribute (the value is escaped).
    fn a(self, name: &str, value: impl Display) -> Self {
        let v = escape(&value.to_string());
        let _ = write!(self.doc.out, " {name}=\"{v}\"");
        self
    }

    /// Adds a pixel-valued attribute.
    fn p(self, name: &str, value: f64) -> Self {
        self.a(name, Px(value))
    }

    /// Ends the element without content.
    fn empty(self) {
        self.doc.out.push_str("/>\n");
    }

    /// Ends the element with text content.
    fn text(self, content: &str) {
        let _ = writeln!(self.doc.out, ">{}</{}>", escape(content), self.name);
    }

    /// Leaves the element open for children (closed by [`Doc::end`]).
    fn group(self) {
        self.doc.out.push_str(">\n");
        self.doc.open.push(self.name);
    }
}

impl Doc {
    /// Starts a document of `width` × `height` pixels with a white background.
    fn new(width: f64, height: f64) -> Doc {
        let mut d = Doc {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            open: Vec::new(),
        };
        d.tag("svg")
            .a("xmlns", "http://www.w3.org/2000/svg")
            .p("width", width)
            .p("height", height)
            .a("viewBox", format!("0 0 {} {}", Px(width), Px(height)))
            .a("font-family", "DejaVu Sans, Helvetica, Arial, sans-serif")
            .a("font-size", 12)
            .group();
        d.tag("rect")
            .a("width", "100%")
            .a("height", "100%")
            .a("fill", "white")
            .empty();
        d
    }

    /// Starts element `name`.
    fn tag(&mut self, name: &'static str) -> Tag<'_> {
        for _ in 0..self.open.len() {
            self.out.push(' ');
        }
        self.out.push('<');
        self.out.push_str(name);
        Tag { doc: self, name }
    }

    /// Closes the innermost open group.
    fn end(&mut self) {
        if let Some(name) = self.open.pop() {
            for _ in 0..self.open.len() {
                self.out.push(' ');
            }
            let _ = writeln!(self.out, "</{name}>");
        }
    }

    /// Closes everything and returns the text.
    fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.end();
        }
        self.out
    }

    /// A straight line.
    fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str, width: f64) {
        self.tag("line")
            .p("x1", x1)
            .p("y1", y1)
            .p("x2", x2)
            .p("y2", y2)
            .a("stroke", stroke)
            .a("stroke-width", width)
            .empty();
    }

    /// Text anchored at (`x`, `y`): `anchor` is `start`, `middle` or `end`.
    fn label(&mut self, x: f64, y: f64, anchor: &str, size: u32, content: &str) {
        self.tag("text")
            .p("x", x)
            .p("y", y)
            .a("text-anchor", anchor)
            .a("font-size", size)
            .a("fill", INK)
            .text(content);
    }

    /// A polyline through `points` (pixel coordinates).
    fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64, dash: &str) {
        let mut pts = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            if i > 0 {
                pts.push(' ');
            }
            let _ = write!(pts, "{},{}", Px(*x), Px(*y));
        }
        let t = self
            .tag("polyline")
            .a("points", pts)
            .a("fill", "none")
            .a("stroke", stroke)
            .a("stroke-width", width)
            .a("stroke-linejoin", "round");
        if dash.is_empty() {
            t.empty();
        } else {
            t.a("stroke-dasharray", dash).empty();
        }
    }

    /// A marker of `shape` centred on (`x`, `y`).
    fn marker(&mut self, shape: Marker, x: f64, y: f64, color: &str, tip: &str) {
        let r = 4.0;
        let t = match shape {
            Marker::Circle => self.tag("circle").p("cx", x).p("cy", y).p("r", r),
            Marker::Square => self
                .tag("rect")
                .p("x", x - r)
                .p("y", y - r)
                .p("width", 2.0 * r)
                .p("height", 2.0 * r),
            Marker::Triangle => {
                let h = r * 1.2;
                let pts = format!(
                    "{},{} {},{} {},{}",
                    Px(x),
                    Px(y - h),
                    Px(x + h),
                    Px(y + h * 0.8),
                    Px(x - h),
                    Px(y + h * 0.8)
                );
                self.tag("polygon").a("points", pts)
            }
            Marker::Diamond => {
                let h = r * 1.3;
                let pts = format!(
                    "{},{} {},{} {},{} {},{}",
                    Px(x),
                    Px(y - h),
                    Px(x + h),
                    Px(y),
                    Px(x),
                    Px(y + h),
                    Px(x - h),
                    Px(y)
                );
                self.tag("polygon").a("points", pts)
            }
        };
        let t = t.a("fill", color).a("stroke", "white").a("stroke-width", 1);
        if tip.is_empty() {
            t.empty();
        } else {
            t.group();
            self.tag("title").text(tip);
            self.end();
        }
    }
}

/// Marker shapes, one per fanout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A filled circle.
    Circle,
    /// A filled square.
    Square,
    /// A filled triangle, point up.
    Triangle,
    /// A filled diamond.
    Diamond,
}

/// One measured point of a [`Series`]: the median and the range over seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Cluster size N.
    pub x: f64,
    /// Median over seeds.
    pub y: f64,
    /// Smallest value over seeds.
    pub lo: f64,
    /// Largest value over seeds.
    pub hi: f64,
}

/// A measured series: line and markers.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Stroke and fill colour.
    pub color: &'static str,
    /// SVG dash pattern (empty: solid).
    pub dash: &'static str,
    /// Marker shape.
    pub marker: Marker,
    /// Converged cells, by increasing x.
    pub points: Vec<Point>,
    /// x of cells where the median run did not converge (drawn as a cross on the top
    /// edge).
    pub missing: Vec<f64>,
}

/// A reference curve (no markers).
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Legend text.
    pub label: String,
    /// Stroke colour.
    pub color: &'static str,
    /// SVG dash pattern (empty: solid).
    pub dash: &'static str,
    /// (x, y) samples by increasing x.
    pub points: Vec<(f64, f64)>,
}

/// Everything the rounds-versus-N figure shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundsFigure {
    /// Title line.
    pub title: String,
    /// Second line under the title.
    pub subtitle: String,
    /// y axis label.
    pub y_label: String,
    /// Measured series.
    pub series: Vec<Series>,
    /// Reference curves.
    pub curves: Vec<Curve>,
    /// x where the scenario changes, with the texts for the left and right side; series
    /// lines are broken there (one polyline per side).
    pub split: Option<(f64, String, String)>,
}

/// One curve of the CDF figure.
#[derive(Debug, Clone, PartialEq)]
pub struct CdfSeries {
    /// Legend text.
    pub label: String,
    /// Colour.
    pub color: &'static str,
    /// Observed values (seconds), any order.
    pub samples: Vec<f64>,
    /// Number of observations the fractions are taken over (at least the number of
    /// samples; more when some members never detected).
    pub total: usize,
}

impl CdfSeries {
    /// The value at which at least half of `total` is reached (`None`: never).
    pub fn median(&self) -> Option<f64> {
        let mut s = self.samples.clone();
        s.sort_by(f64::total_cmp);
        let need = self.total.div_ceil(2).max(1);
        s.get(need - 1).copied()
    }
}

/// Everything the CDF figure shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CdfFigure {
    /// Title line.
    pub title: String,
    /// Second line under the title.
    pub subtitle: String,
    /// x axis label.
    pub x_label: String,
    /// One curve per protocol.
    pub series: Vec<CdfSeries>,
}

/// A step (1, 2 or 5 times a power of ten) giving at most about `ticks` intervals over
/// `span`.
fn tick_step(span: f64, ticks: f64) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / ticks;
    let decade = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0] {
        if m * decade >= raw * (1.0 - 1e-9) {
            return m * decade;
        }
    }
    10.0 * decade
}

/// A tick value written with as many decimals as the step needs.
fn tick_text(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{v:.decimals$}")
}

/// An integer with thin groups of three digits (`100 000`).
fn grouped(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The plot area in pixels.
#[derive(Debug, Clone, Copy)]
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

/// Maps data to pixels: x linear or log10, y linear.
#[derive(Debug, Clone, Copy)]
struct Axes {
    frame: Frame,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    log_x: bool,
}

impl Axes {
    fn fx(&self, x: f64) -> f64 {
        let (v, a, b) = if self.log_x {
            (x.max(1e-12).log10(), self.x0.log10(), self.x1.log10())
        } else {
            (x, self.x0, self.x1)
        };
        self.frame.left + (v - a) / (b - a) * (self.frame.right - self.frame.left)
    }

    fn fy(&self, y: f64) -> f64 {
        self.frame.bottom
            - (y - self.y0) / (self.y1 - self.y0) * (self.frame.bottom - self.frame.top)
    }

    fn at(&self, x: f64, y: f64) -> (f64, f64) {
        (self.fx(x), self.fy(y))
    }

    /// Horizontal grid lines, y ticks with labels, and the y axis title.
    fn y_axis(&self, doc: &mut Doc, step: f64, title: &str) {
        let f = self.frame;
        doc.tag("g").a("id", "y-axis").group();
        let count = ((self.y1 - self.y0) / step).round() as i64;
        for i in 0..=count {
            let v = self.y0 + i as f64 * step;
            let y = self.fy(v);
            if i > 0 {
                doc.line((f.left, y), (f.right, y), GRID, 1.0);
            }
            doc.line((f.left - 5.0, y), (f.left, y), INK, 1.0);
            doc.label(f.left - 8.0, y + 4.0, "end", 12, &tick_text(v, step));
        }
        let cy = (f.top + f.bottom) / 2.0;
        let x = f.left - 48.0;
        doc.tag("text")
            .p("x", x)
            .p("y", cy)
            .a("transform", format!("rotate(-90 {} {})", Px(x), Px(cy)))
            .a("text-anchor", "middle")
            .a("font-size", 14)
            .a("fill", INK)
            .text(title);
        doc.end();
    }

    /// The frame's left and bottom edges.
    fn frame_lines(&self, doc: &mut Doc) {
        let f = self.frame;
        doc.line((f.left, f.top), (f.left, f.bottom), INK, 1.2);
        doc.line((f.left, f.bottom), (f.right, f.bottom), INK, 1.2);
    }
}

/// Title and subtitle, centred over the plot area.
fn titles(doc: &mut Doc, frame: Frame, title: &str, subtitle: &str) {
    let cx = (frame.left + frame.right) / 2.0;
    doc.tag("g").a("id", "title").group();
    doc.tag("text")
        .p("x", cx)
        .p("y", 28.0)
        .a("text-anchor", "middle")
        .a("font-size", 17)
        .a("font-weight", "bold")
        .a("fill", INK)
        .text(title);
    doc.label(cx, 50.0, "middle", 12, subtitle);
    doc.end();
}

/// Sideways shift between neighbouring series of the rounds figure, pixels.
const DODGE: f64 = 3.0;

/// The rounds-to-100 % figure: x = N on a log10 axis, y = rounds.
pub fn rounds_svg(fig: &RoundsFigure) -> String {
    let (width, height) = (1060.0, 620.0);
    let frame = Frame {
        left: 76.0,
        right: 740.0,
        top: 78.0,
        bottom: 540.0,
    };
    let xs = fig
        .series
        .iter()
        .flat_map(|s| {
            s.points
                .iter()
                .map(|p| p.x)
                .chain(s.missing.iter().copied())
        })
        .chain(fig.curves.iter().flat_map(|c| c.points.iter().map(|p| p.0)))
        .filter(|x| x.is_finite() && *x > 0.0);
    let (lo, hi) = xs.fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
    let (lo, hi) = if lo.is_finite() {
        (lo, hi)
    } else {
        (1.0, 10.0)
    };
    // Some room left and right of the extreme cells, in log space.
    let (x0, x1) = (lo / 1.5, hi.max(lo * 10.0) * 1.5);
    let ymax = fig
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.hi.max(p.y)))
        .chain(fig.curves.iter().flat_map(|c| c.points.iter().map(|p| p.1)))
        .filter(|y| y.is_finite())
        .fold(1.0f64, f64::max);
    let step = tick_step(ymax * 1.05, 8.0);
    let y1 = (ymax * 1.05 / step).ceil() * step;
    let ax = Axes {
        frame,
        x0,
        x1,
        y0: 0.0,
        y1,
        log_x: true,
    };

    let mut doc = Doc::new(width, height);
    titles(&mut doc, frame, &fig.title, &fig.subtitle);

    // x axis: decades labelled, 2..9 as minor ticks, grid lines at decades.
    doc.tag("g").a("id", "x-axis").group();
    let (d0, d1) = (x0.log10().floor() as i32, x1.log10().ceil() as i32);
    for d in d0..=d1 {
        let decade = 10f64.powi(d);
        for m in 1..10 {
            let v = decade * f64::from(m);
            if v < x0 || v > x1 {
                continue;
            }
            let x = ax.fx(v);
            if m == 1 {
                doc.line((x, frame.top), (x, frame.bottom), GRID, 1.0);
                doc.line((x, frame.bottom), (x, frame.bottom + 6.0), INK, 1.0);
                let text = if d >= 0 {
                    grouped(decade as u64)
                } else {
                    format!("{decade}")
                };
                doc.label(x, frame.bottom + 21.0, "middle", 12, &text);
            } else {
                doc.line((x, frame.bottom), (x, frame.bottom + 3.0), INK, 1.0);
            }
        }
    }
    doc.label(
        (frame.left + frame.right) / 2.0,
        frame.bottom + 44.0,
        "middle",
        14,
        "cluster size N (log scale)",
    );
    doc.end();
    ax.y_axis(&mut doc, step, &fig.y_label);

    // Where the scenario changes.
    if let Some((at, left_text, right_text)) = &fig.split {
        let x = ax.fx(*at);
        doc.tag("g").a("id", "scenario-split").group();
        doc.tag("line")
            .p("x1", x)
            .p("y1", frame.top)
            .p("x2", x)
            .p("y2", frame.bottom)
            .a("stroke", "#b0b0b0")
            .a("stroke-width", 1.2)
            .a("stroke-dasharray", "3 4")
            .empty();
        doc.label(x - 6.0, frame.top + 14.0, "end", 11, left_text);
        doc.label(x + 6.0, frame.top + 14.0, "start", 11, right_text);
        doc.end();
    }

    // Reference curves under the data.
    for (i, c) in fig.curves.iter().enumerate() {
        doc.tag("g").a("id", format!("reference-{i}")).group();
        let pts: Vec<(f64, f64)> = c
            .points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|&(x, y)| ax.at(x, y))
            .collect();
        doc.polyline(&pts, c.color, 1.6, c.dash);
        doc.end();
    }

    // Measured series: min-max bars, line, markers, non-converged crosses. Series are
    // shifted sideways by a few pixels each so that markers and bars at the same N
    // stay apart.
    let count = fig.series.len() as f64;
    for (i, s) in fig.series.iter().enumerate() {
        let dx = (i as f64 - (count - 1.0) / 2.0) * DODGE;
        let at = |p: &Point| (ax.fx(p.x) + dx, ax.fy(p.y));
        doc.tag("g").a("id", format!("series-{i}")).group();
        for p in &s.points {
            if p.hi > p.lo {
                let x = ax.fx(p.x) + dx;
                doc.line((x, ax.fy(p.lo)), (x, ax.fy(p.hi)), s.color, 1.0);
            }
        }
        // The line does not cross the scenario change: the two sides measure
        // different things.
        let cut = fig.split.as_ref().map_or(f64::INFINITY, |sp| sp.0);
        for side in [false, true] {
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|p| (p.x > cut) == side)
                .map(at)
                .collect();
            if !pts.is_empty() {
                doc.polyline(&pts, s.color, 2.0, s.dash);
            }
        }
        for p in &s.points {
            let (x, y) = at(p);
            let tip = format!(
                "{}: N = {}, median {:.1} rounds (min {:.1}, max {:.1})",
                s.label,
                grouped(p.x as u64),
                p.y,
                p.lo,
                p.hi
            );
            doc.marker(s.marker, x, y, s.color, &tip);
        }
        for &m in &s.missing {
            let x = ax.fx(m) + dx;
            doc.tag("text")
                .p("x", x)
                .p("y", frame.top + 4.0)
                .a("text-anchor", "middle")
                .a("font-size", 14)
                .a("font-weight", "bold")
                .a("fill", s.color)
                .text("×");
        }
        doc.end();
    }
    ax.frame_lines(&mut doc);

    // Legend to the right of the plot.
    let lx = frame.right + 24.0;
    let mut ly = frame.top + 6.0;
    doc.tag("g").a("id", "legend").group();
    doc.tag("text")
        .p("x", lx)
        .p("y", ly)
        .a("font-size", 13)
        .a("font-weight", "bold")
        .a("fill", INK)
        .text("median over seeds (bar: min–max)");
    ly += 16.0;
    doc.label(lx, ly, "start", 11, "series shifted apart by a few pixels");
    ly += 22.0;
    for s in &fig.series {
        doc.polyline(&[(lx, ly), (lx + 40.0, ly)], s.color, 2.0, s.dash);
        doc.marker(s.marker, lx + 20.0, ly, s.color, "");
        doc.label(lx + 50.0, ly + 4.0, "start", 12, &s.label);
        ly += 21.0;
    }
    if fig.series.iter().any(|s| !s.missing.is_empty()) {
        doc.label(lx + 20.0, ly + 5.0, "middle", 14, "×");
        doc.label(lx + 50.0, ly + 4.0, "start", 12, "not converged (top edge)");
        ly += 21.0;
    }
    ly += 12.0;
    doc.tag("text")
        .p("x", lx)
        .p("y", ly)
        .a("font-size", 13)
        .a("font-weight", "bold")
        .a("fill", INK)
        .text("references");
    ly += 22.0;
    for c in &fig.curves {
        doc.polyline(&[(lx, ly), (lx + 40.0, ly)], c.color, 1.6, c.dash);
        doc.label(lx + 50.0, ly + 4.0, "start", 12, &c.label);
        ly += 21.0;
    }
    doc.end();
    doc.finish()
}

/// The detection-time CDF figure: x = seconds, y = fraction of members.
pub fn cdf_svg(fig: &CdfFigure) -> String {
    let (width, height) = (900.0, 600.0);
    let frame = Frame {
        left: 76.0,
        right: 860.0,
        top: 78.0,
        bottom: 500.0,
    };
    let xmax = fig
        .series
        .iter()
        .flat_map(|s| s.samples.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(0.1);
    let xstep = tick_step(xmax * 1.05, 12.0);
    let x1 = (xmax * 1.05 / xstep).ceil() * xstep;
    let ax = Axes {
        frame,
        x0: 0.0,
        x1,
        y0: 0.0,
        y1: 1.0,
        log_x: false,
    };

    let mut doc = Doc::new(width, height);
    titles(&mut doc, frame, &fig.title, &fig.subtitle);

    doc.tag("g").a("id", "x-axis").group();
    let count = (x1 / xstep).round() as i64;
    for i in 0..=count {
        let v = i as f64 * xstep;
        let x = ax.fx(v);
        if i > 0 {
            doc.line((x, frame.top), (x, frame.bottom), GRID, 1.0);
        }
        doc.line((x, frame.bottom), (x, frame.bottom + 6.0), INK, 1.0);
        doc.label(x, frame.bottom + 21.0, "middle", 12, &tick_text(v, xstep));
    }
    doc.label(
        (frame.left + frame.right) / 2.0,
        frame.bottom + 44.0,
        "middle",
        14,
        &fig.x_label,
    );
    doc.end();
    ax.y_axis(&mut doc, 0.1, "fraction of members that marked it failed");

    for (i, s) in fig.series.iter().enumerate() {
        doc.tag("g").a("id", format!("cdf-{i}")).group();
        let mut v = s.samples.clone();
        v.retain(|x| x.is_finite());
        v.sort_by(f64::total_cmp);
        let total = s.total.max(v.len()).max(1) as f64;
        // Empirical CDF as steps: flat, then up at every distinct value.
        let mut pts = vec![ax.at(0.0, 0.0)];
        let mut seen = 0usize;
        let mut j = 0;
        while j < v.len() {
            let x = v[j];
            let before = seen as f64 / total;
            while j < v.len() && v[j] == x {
                j += 1;
            }
            seen = j;
            pts.push(ax.at(x, before));
            pts.push(ax.at(x, seen as f64 / total));
        }
        pts.push(ax.at(x1, seen as f64 / total));
        doc.polyline(&pts, s.color, 2.2, "");
        if let Some(m) = s.median() {
            let (x, y) = ax.at(m, 0.5);
            doc.tag("line")
                .p("x1", x)
                .p("y1", y)
                .p("x2", x)
                .p("y2", frame.bottom)
                .a("stroke", s.color)
                .a("stroke-width", 1.2)
                .a("stroke-dasharray", "4 3")
                .empty();
            doc.marker(Marker::Circle, x, y, s.color, "");
            // Label on the right of the dot, or on its left near the right edge.
            let (lx, anchor) = if x > frame.right - 120.0 {
                (x - 8.0, "end")
            } else {
                (x + 8.0, "start")
            };
            doc.tag("text")
                .p("x", lx)
                .p("y", y - 8.0 - 16.0 * i as f64)
                .a("text-anchor", anchor)
                .a("font-size", 12)
                .a("font-weight", "bold")
                .a("fill", s.color)
                .text(&format!("median {m:.2} s"));
        }
        doc.end();
    }
    ax.frame_lines(&mut doc);

    // Legend under the x axis title, entries side by side.
    doc.tag("g").a("id", "legend").group();
    let ly = frame.bottom + 72.0;
    let mut lx = frame.left;
    for s in &fig.series {
        doc.polyline(&[(lx, ly), (lx + 36.0, ly)], s.color, 2.2, "");
        doc.label(lx + 44.0, ly + 4.0, "start", 12, &s.label);
        lx += 44.0 + 7.0 * s.label.chars().count() as f64 + 28.0;
    }
    if !fig.series.is_empty() {
        doc.marker(Marker::Circle, lx + 6.0, ly, INK, "");
        doc.label(
            lx + 16.0,
            ly + 4.0,
            "start",
            12,
            "median (dashed drop line)",
        );
    }
    doc.end();
    doc.finish()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Checks that every start tag has its end tag, in order, and that attribute
    /// quotes pair up. Returns the number of elements.
    pub(crate) fn balanced(doc: &str) -> Result<usize, String> {
        let mut stack: Vec<String> = Vec::new();
        let mut count = 0;
        let mut pos = 0;
        while let Some(off) = doc[pos..].find('<') {
            let start = pos + off;
            let close = doc[start..]
                .find('>')
                .ok_or_else(|| format!("unterminated tag at {start}"))?
                + start;
            let inner = &doc[start + 1..close];
            pos = close + 1;
            if inner.starts_with('?') || inner.starts_with('!') {
                continue;
            }
            if inner.matches('"').count() % 2 == 1 {
                return Err(format!("odd quotes in <{inner}>"));
            }
            if let Some(name) = inner.strip_prefix('/') {
                let open = stack.pop().ok_or_else(|| format!("stray </{name}>"))?;
                if open != name {
                    return Err(format!("</{name}> closes <{open}>"));
                }
            } else {
                count += 1;
                if !inner.ends_with('/') {
                    let name = inner.split_whitespace().next().unwrap_or_default();
                    stack.push(name.to_string());
                }
            }
        }
        if stack.is_empty() {
            Ok(count)
        } else {
            Err(format!("left open: {stack:?}"))
        }
    }

    /// The text of the group with `id` (up to its closing tag at the same indent).
    pub(crate) fn group<'a>(doc: &'a str, id: &str) -> &'a str {
        let at = doc.find(&format!("id=\"{id}\"")).expect("group exists");
        let line_start = doc[..at].rfind('\n').map_or(0, |i| i + 1);
        let indent = at - line_start - "<g ".len();
        let end_tag = format!("\n{}</g>", " ".repeat(indent));
        let len = doc[at..].find(&end_tag).expect("group closes");
        &doc[at..at + len]
    }

    fn sample_rounds() -> RoundsFigure {
        let pts = |k: f64| {
            [5.0, 50.0, 1000.0, 100_000.0]
                .iter()
                .map(|&x| Point {
                    x,
                    y: k * f64::ln(x),
                    lo: k * f64::ln(x) - 0.5,
                    hi: k * f64::ln(x) + 0.5,
                })
                .collect::<Vec<_>>()
        };
        RoundsFigure {
            title: "Rounds <to> 100 % & more".into(),
            subtitle: "test".into(),
            y_label: "rounds".into(),
            series: vec![
                Series {
                    label: "shoal, k = 2".into(),
                    color: "#1f6fb5",
                    dash: "",
                    marker: Marker::Circle,
                    points: pts(1.0),
                    missing: vec![],
                },
                Series {
                    label: "classic, k = 3".into(),
                    color: "#d95f02",
                    dash: "6 3",
                    marker: Marker::Triangle,
                    points: pts(0.7),
                    missing: vec![10_000.0],
                },
            ],
            curves: vec![Curve {
                label: "log2 N + ln N".into(),
                color: REFERENCE,
                dash: "",
                points: (1..=50)
                    .map(|i| {
                        let n = 10f64.powf(f64::from(i) / 10.0);
                        (n, n.log2() + n.ln())
                    })
                    .collect(),
            }],
            split: Some((3000.0, "Join".into(), "Rumor".into())),
        }
    }

    #[test]
    fn rounds_figure_is_balanced_with_one_polyline_per_series() {
        let doc = rounds_svg(&sample_rounds());
        assert!(balanced(&doc).unwrap() > 50);
        assert!(doc.contains("Rounds &lt;to&gt; 100 % &amp; more"));
        // Each series is broken at the scenario change (x = 3000): one polyline per
        // side.
        for id in ["series-0", "series-1"] {
            assert_eq!(group(&doc, id).matches("<polyline").count(), 2, "{id}");
        }
        assert_eq!(group(&doc, "reference-0").matches("<polyline").count(), 1);
        let mut unbroken = sample_rounds();
        unbroken.split = None;
        let doc2 = rounds_svg(&unbroken);
        assert_eq!(group(&doc2, "series-1").matches("<polyline").count(), 1);
        assert_eq!(group(&doc, "series-0").matches("<circle").count(), 4);
        assert_eq!(group(&doc, "series-1").matches("<polygon").count(), 4);
        assert_eq!(group(&doc, "series-1").matches('×').count(), 1);
        // Decade labels on the log axis.
        let axis = group(&doc, "x-axis");
        for label in [">10<", ">100<", ">1 000<", ">100 000<"] {
            assert!(axis.contains(label), "{label}");
        }
        assert!(!doc.contains("NaN") && !doc.contains("inf"));
    }

    #[test]
    fn cdf_figure_is_balanced_and_marks_medians() {
        let fig = CdfFigure {
            title: "detection".into(),
            subtitle: "N = 100".into(),
            x_label: "seconds".into(),
            series: vec![
                CdfSeries {
                    label: "shoal".into(),
                    color: "#1f6fb5",
                    samples: vec![3.0, 3.2, 3.2, 3.4],
                    total: 4,
                },
                CdfSeries {
                    label: "classic".into(),
                    color: "#d95f02",
                    samples: vec![10.0, 10.5],
                    total: 4,
                },
            ],
        };
        let doc = cdf_svg(&fig);
        balanced(&doc).unwrap();
        assert_eq!(group(&doc, "cdf-0").matches("<polyline").count(), 1);
        assert_eq!(group(&doc, "cdf-1").matches("<polyline").count(), 1);
        assert!(doc.contains("median 3.20 s"));
        assert!(doc.contains("median 10.50 s"));
        assert_eq!(fig.series[0].median(), Some(3.2));
        let never = CdfSeries {
            samples: vec![1.0],
            total: 3,
            ..fig.series[0].clone()
        };
        assert_eq!(never.median(), None);
    }

    #[test]
    fn empty_figures_are_still_valid() {
        let doc = rounds_svg(&RoundsFigure {
            title: String::new(),
            subtitle: String::new(),
            y_label: String::new(),
            series: vec![],
            curves: vec![],
            split: None,
        });
        balanced(&doc).unwrap();
        assert!(!doc.contains("NaN") && !doc.contains("inf"));
        let doc = cdf_svg(&CdfFigure {
            title: String::new(),
            subtitle: String::new(),
            x_label: String::new(),
            series: vec![],
        });
        balanced(&doc).unwrap();
        assert!(!doc.contains("NaN") && !doc.contains("inf"));
    }

    #[test]
    fn ticks_and_numbers() {
        assert_eq!(tick_step(31.0, 8.0), 5.0);
        assert_eq!(tick_step(10.0, 10.0), 1.0);
        assert_eq!(tick_step(1.05, 12.0), 0.1);
        assert_eq!(tick_text(0.30000000000000004, 0.1), "0.3");
        assert_eq!(tick_text(25.0, 5.0), "25");
        assert_eq!(grouped(100_000), "100 000");
        assert_eq!(grouped(5), "5");
        assert_eq!(Px(3.0).to_string(), "3");
        assert_eq!(Px(3.04).to_string(), "3");
        assert_eq!(Px(-2.25).to_string(), "-2.3");
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    }
}
