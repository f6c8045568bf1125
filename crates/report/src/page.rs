//! A small page writer over krilla: A4 pages filled top to bottom with headings, lines of text,
//! tables and SVG charts, a new page when one is full. Fonts are DejaVu Sans, embedded from the
//! `dejavu` crate (never the system's), and the document's metadata is given by the caller, so the
//! same content always makes the same bytes.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;
use krilla_svg::{SurfaceExt, SvgSettings};
use std::sync::Arc;

pub(crate) const WIDTH: f32 = 595.0;
pub(crate) const HEIGHT: f32 = 842.0;
pub(crate) const MARGIN: f32 = 48.0;

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the embedded font could not be read")]
    Font,
    #[error("a chart could not be drawn: {0}")]
    Chart(String),
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

/// What is drawn on a page, in order (pages are drawn when the document is finished).
enum Item {
    Text {
        at: Point,
        size: f32,
        bold: bool,
        grey: bool,
        text: String,
    },
    Rule {
        y: f32,
    },
    Svg {
        at: Point,
        tree: Box<usvg::Tree>,
        size: Size,
    },
}

/// A document being laid out.
pub(crate) struct Writer {
    regular: Font,
    bold: Font,
    svg_options: usvg::Options<'static>,
    pages: Vec<Vec<Item>>,
    /// Where the next item goes on the last page.
    y: f32,
}

/// A table's column: its heading, width (points) and whether it is a number (right-aligned).
pub(crate) struct Column<'a> {
    pub title: &'a str,
    pub width: f32,
    pub numeric: bool,
}

fn font(data: &'static [u8]) -> Result<Font, ReportError> {
    Font::new(krilla::Data::from(data), 0).ok_or(ReportError::Font)
}

/// The advance of `text` at `size`, near enough for layout (DejaVu Sans averages 0.55 em).
fn text_width(text: &str, size: f32) -> f32 {
    text.chars().count() as f32 * size * 0.55
}

/// `text` in lines that fit the page's width at `size`, broken between words.
fn wrap(text: &str, size: f32) -> Vec<String> {
    let max = WIDTH - 2.0 * MARGIN;
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let last = lines.len() - 1;
        let candidate = if lines[last].is_empty() {
            word.to_string()
        } else {
            format!("{} {word}", lines[last])
        };
        if text_width(&candidate, size) > max && !lines[last].is_empty() {
            lines.push(word.to_string());
        } else {
            lines[last] = candidate;
        }
    }
    lines
}

impl Writer {
    pub(crate) fn new() -> Result<Writer, ReportError> {
        let mut fonts = usvg::fontdb::Database::new();
        fonts.load_font_data(dejavu::sans::regular().to_vec());
        fonts.set_sans_serif_family("DejaVu Sans");
        let svg_options = usvg::Options {
            fontdb: Arc::new(fonts),
            font_family: "DejaVu Sans".into(),
            ..Default::default()
        };
        Ok(Writer {
            regular: font(dejavu::sans::regular())?,
            bold: font(dejavu::sans::bold())?,
            svg_options,
            pages: vec![Vec::new()],
            y: MARGIN,
        })
    }

    fn page(&mut self) -> &mut Vec<Item> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page.
    pub(crate) fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Makes room for `height` points, on a new page when this one has not enough.
    fn room(&mut self, height: f32) {
        if self.y + height > HEIGHT - MARGIN {
            self.new_page();
        }
    }

    pub(crate) fn space(&mut self, points: f32) {
        self.y += points;
    }

    fn text_at(&mut self, x: f32, size: f32, bold: bool, grey: bool, text: &str) {
        let at = Point::from_xy(x, self.y + size);
        self.page().push(Item::Text {
            at,
            size,
            bold,
            grey,
            text: text.to_string(),
        });
    }

    pub(crate) fn heading(&mut self, text: &str, size: f32) {
        self.room(size * 3.0);
        self.space(size * 0.6);
        self.text_at(MARGIN, size, true, false, text);
        self.space(size * 1.5);
    }

    pub(crate) fn line(&mut self, text: &str) {
        for part in wrap(text, 10.5) {
            self.room(16.0);
            self.text_at(MARGIN, 10.5, false, false, &part);
            self.space(16.0);
        }
    }

    pub(crate) fn note(&mut self, text: &str) {
        for part in wrap(text, 9.0) {
            self.room(14.0);
            self.text_at(MARGIN, 9.0, false, true, &part);
            self.space(14.0);
        }
    }

    /// A table: a bold header, a rule, then the rows (a new page repeats the header).
    pub(crate) fn table(&mut self, columns: &[Column<'_>], rows: &[Vec<String>]) {
        let header = |w: &mut Writer| {
            let mut x = MARGIN;
            for c in columns {
                let tx = if c.numeric {
                    x + c.width - text_width(c.title, 9.0) - 4.0
                } else {
                    x
                };
                w.text_at(tx, 9.0, true, false, c.title);
                x += c.width;
            }
            w.space(14.0);
            let y = w.y - 2.0;
            w.page().push(Item::Rule { y });
        };
        self.room(40.0);
        header(self);
        for row in rows {
            if self.y + 14.0 > HEIGHT - MARGIN {
                self.new_page();
                header(self);
            }
            let mut x = MARGIN;
            for (c, cell) in columns.iter().zip(row) {
                let tx = if c.numeric {
                    x + c.width - text_width(cell, 9.0) - 4.0
                } else {
                    x
                };
                self.text_at(tx, 9.0, false, false, cell);
                x += c.width;
            }
            self.space(13.0);
        }
        self.space(8.0);
    }

    /// A chart (an SVG document of `width`×`height` pixels) across the page's width.
    pub(crate) fn svg(&mut self, svg: &str) -> Result<(), ReportError> {
        let tree = usvg::Tree::from_str(svg, &self.svg_options)
            .map_err(|e| ReportError::Chart(e.to_string()))?;
        let scale = (WIDTH - 2.0 * MARGIN) / tree.size().width();
        let size = Size::from_wh(tree.size().width() * scale, tree.size().height() * scale)
            .ok_or_else(|| ReportError::Chart("an empty chart".into()))?;
        self.room(size.height() + 8.0);
        let at = Point::from_xy(MARGIN, self.y);
        self.page().push(Item::Svg {
            at,
            tree: Box::new(tree),
            size,
        });
        self.space(size.height() + 12.0);
        Ok(())
    }

    /// Draws every page, with its number, and returns the PDF.
    pub(crate) fn finish(self, metadata: Metadata) -> Result<Vec<u8>, ReportError> {
        let mut document = Document::new();
        document.set_metadata(metadata);
        let total = self.pages.len();
        let settings = PageSettings::from_wh(WIDTH, HEIGHT)
            .ok_or_else(|| ReportError::Pdf("bad page size".into()))?;
        for (n, items) in self.pages.iter().enumerate() {
            let mut page = document.start_page_with(settings.clone());
            let mut surface = page.surface();
            for item in items {
                draw(&mut surface, item, &self.regular, &self.bold);
            }
            let footer = format!("{} / {total}", n + 1);
            let at = Point::from_xy(WIDTH - MARGIN - text_width(&footer, 8.0), HEIGHT - 24.0);
            text(&mut surface, at, &self.regular, 8.0, true, &footer);
            surface.finish();
            page.finish();
        }
        document
            .finish()
            .map_err(|e| ReportError::Pdf(format!("{e:?}")))
    }
}

fn fill(grey: bool) -> Fill {
    let c = if grey { 100 } else { 30 };
    Fill {
        paint: rgb::Color::new(c, c + 10, c + 25).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn text(surface: &mut Surface<'_>, at: Point, font: &Font, size: f32, grey: bool, t: &str) {
    surface.set_fill(Some(fill(grey)));
    surface.draw_text(at, font.clone(), size, t, false, TextDirection::Auto);
}

fn draw(surface: &mut Surface<'_>, item: &Item, regular: &Font, bold: &Font) {
    match item {
        Item::Text {
            at,
            size,
            bold: b,
            grey,
            text: t,
        } => text(
            surface,
            *at,
            if *b { bold } else { regular },
            *size,
            *grey,
            t,
        ),
        Item::Rule { y } => {
            let mut path = PathBuilder::new();
            if let Some(r) = Rect::from_xywh(MARGIN, *y, WIDTH - 2.0 * MARGIN, 0.7) {
                path.push_rect(r);
            }
            if let Some(p) = path.finish() {
                surface.set_fill(Some(fill(true)));
                surface.draw_path(&p);
            }
        }
        Item::Svg { at, tree, size } => {
            surface.push_transform(&krilla::geom::Transform::from_translate(at.x, at.y));
            surface.draw_svg(tree, *size, SvgSettings::default());
            surface.pop();
        }
    }
}
