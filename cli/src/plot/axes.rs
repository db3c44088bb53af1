//! Text, axes and the colour legend of the `--plot` picture.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};

pub const LABEL: Rgb<u8> = Rgb([175, 175, 185]);
pub const TICK: Rgb<u8> = Rgb([110, 110, 120]);
/// Tick label size in pixels; titles are a little larger.
pub const SMALL: f32 = 13.0;

/// Lowest frequency shown: below it a 2048-point FFT has no resolution left to show.
pub const F_MIN: f32 = 20.0;
const FREQ_TICKS: [(f32, &str); 9] = [
    (50.0, "50"),
    (100.0, "100"),
    (200.0, "200"),
    (500.0, "500"),
    (1e3, "1k"),
    (2e3, "2k"),
    (5e3, "5k"),
    (1e4, "10k"),
    (2e4, "20k"),
];
/// The colour scale runs from `DB_FLOOR` dBFS (darkest) to 0 dBFS (a full-scale sine).
pub const DB_FLOOR: f32 = -100.0;

#[derive(Clone, Copy)]
pub enum Align {
    Left,
    Centre,
    Right,
}

/// Draws text with the monospaced Hack font bundled by egui, so digits line up in columns.
pub struct Pen(FontRef<'static>);

impl Pen {
    pub fn new() -> Self {
        Self(FontRef::try_from_slice(epaint_default_fonts::HACK_REGULAR).expect("the bundled font parses"))
    }

    fn width(&self, s: &str, size: f32) -> f32 {
        let f = self.0.as_scaled(PxScale::from(size));
        s.chars().map(|c| f.h_advance(f.glyph_id(c))).sum()
    }

    /// `x` is the left edge, centre or right edge of the text as `align` says; `y` is its vertical
    /// middle (of the digits and capitals), so labels sit level with their tick marks.
    pub fn text(&self, img: &mut RgbImage, s: &str, size: f32, (x, y): (f32, f32), align: Align, colour: Rgb<u8>) {
        let f = self.0.as_scaled(PxScale::from(size));
        let mut pen_x = match align {
            Align::Left => x,
            Align::Centre => x - self.width(s, size) / 2.0,
            Align::Right => x - self.width(s, size),
        };
        let baseline = y + 0.36 * size;
        for c in s.chars() {
            let id = f.glyph_id(c);
            if let Some(outline) = self.0.outline_glyph(id.with_scale_and_position(size, point(pen_x, baseline))) {
                let b = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let (px, py) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
                    if (0..img.width() as i64).contains(&px) && (0..img.height() as i64).contains(&py) {
                        blend(img.get_pixel_mut(px as u32, py as u32), colour, coverage);
                    }
                });
            }
            pen_x += f.h_advance(id);
        }
    }
}

fn blend(p: &mut Rgb<u8>, c: Rgb<u8>, a: f32) {
    let a = a.clamp(0.0, 1.0);
    for i in 0..3 {
        p.0[i] = (p.0[i] as f32 * (1.0 - a) + c.0[i] as f32 * a).round() as u8;
    }
}

pub fn hline(img: &mut RgbImage, x: std::ops::Range<u32>, y: u32, c: Rgb<u8>) {
    x.for_each(|x| img.put_pixel(x, y, c));
}

pub fn vline(img: &mut RgbImage, x: u32, y: std::ops::Range<u32>, c: Rgb<u8>) {
    y.for_each(|y| img.put_pixel(x, y, c));
}

/// Height of frequency `f` above the bottom of a log-frequency axis `h` pixels tall, from `F_MIN`
/// to `nyquist`, as a fraction of `h`.
pub fn freq_frac(f: f32, nyquist: f32) -> f32 {
    (f / F_MIN).ln() / (nyquist / F_MIN).ln()
}

/// Frequency ticks at 50, 100, 200, 500 Hz … 20 kHz, as many as fit below Nyquist, left of a
/// spectrogram whose top-left corner is `(x, y)`.
pub fn freq_axis(img: &mut RgbImage, pen: &Pen, (x, y): (u32, u32), h: u32, nyquist: f32) {
    for (f, label) in FREQ_TICKS.into_iter().filter(|&(f, _)| f <= nyquist) {
        let ty = y + ((1.0 - freq_frac(f, nyquist)) * h as f32).round().min(h as f32 - 1.0) as u32;
        hline(img, x - 5..x, ty, TICK);
        pen.text(img, label, SMALL, (x as f32 - 8.0, ty as f32), Align::Right, LABEL);
    }
    pen.text(img, "Hz", SMALL, (6.0, (y + h / 2) as f32), Align::Left, LABEL);
}

/// Ticks every 1, 2 or 5 × 10^n seconds, about ten across, below a plot `w` pixels wide whose
/// bottom-left corner is `(x, y)` and which shows `seconds` in all.
pub fn time_axis(img: &mut RgbImage, pen: &Pen, (x, y): (u32, u32), w: u32, seconds: f64) {
    let step = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0]
        .into_iter()
        .find(|s| seconds / s <= 10.0)
        .unwrap_or(600.0);
    let decimals = if step >= 1.0 {
        0
    } else if step >= 0.1 {
        1
    } else {
        2
    };
    for k in 0..=(seconds / step + 1e-9) as u32 {
        let t = k as f64 * step;
        let tx = x + ((t / seconds * w as f64).round() as u32).min(w - 1);
        vline(img, tx, y..y + 5, TICK);
        pen.text(img, &format!("{t:.decimals$}"), SMALL, (tx as f32, y as f32 + 14.0), Align::Centre, LABEL);
    }
    pen.text(img, "time (s)", SMALL, (6.0, y as f32 + 14.0), Align::Left, LABEL);
}

/// A vertical colour bar from `DB_FLOOR` to 0 dBFS with a label every 20 dB, its top-left corner
/// at `(x, y)`.
pub fn colour_bar(img: &mut RgbImage, pen: &Pen, (x, y): (u32, u32), h: u32, colours: impl Fn(f32) -> Rgb<u8>) {
    pen.text(img, "dBFS", SMALL, (x as f32, y as f32 - 17.0), Align::Left, LABEL);
    for row in 0..h {
        hline(img, x..x + 12, y + row, colours(1.0 - row as f32 / (h - 1) as f32));
    }
    for db in (DB_FLOOR as i32..=0).step_by(20) {
        let ty = y + ((db as f32 / DB_FLOOR) * (h - 1) as f32).round() as u32;
        hline(img, x + 12..x + 16, ty, TICK);
        pen.text(img, &db.to_string(), SMALL, (x as f32 + 19.0, ty as f32), Align::Left, LABEL);
    }
}
