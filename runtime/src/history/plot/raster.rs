//! The PNG canvas: plotters draws on [`Supersampled`] in image pixels,
//! which rasterizes every shape and text at `SCALE` times the resolution
//! into a [`Canvas`] over [`samples`]; [`downsample`] averages each `SCALE`
//! x `SCALE` block into one pixel, which smooths the edges of curves and
//! markers that plotters' rasterizer draws without anti-aliasing.
//!
//! It also draws text itself, with `ab_glyph` and the embedded font:
//! plotters 0.3.7's `ab_glyph` text drops each glyph's left side bearing
//! (uneven spacing: "1 0 epochs") and puts the baseline at half the font
//! size. Text is laid out with the advances and box plotters measures, so
//! anchoring and the chart's layout match.

use std::convert::Infallible;

use ab_glyph::{point, Font, FontRef, GlyphId, ScaleFont};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// Pixels per image pixel, along each axis.
const SCALE: i32 = 3;

type DrawResult = Result<(), DrawingErrorKind<Infallible>>;

/// An RGB pixel buffer at `SCALE` times the image's resolution, drawn
/// with alpha blending; shapes use plotters' default rasterizers.
struct Canvas<'a> {
    rgb: &'a mut [u8],
    width: u32,
    height: u32,
}

impl Canvas<'_> {
    /// Paints `color` over the sample at `(x, y)`, if it is inside.
    fn blend(&mut self, (x, y): BackendCoord, color: BackendColor) {
        if x < 0 || y < 0 || x as u32 >= self.width || y as u32 >= self.height {
            return;
        }
        let i = 3 * (y as usize * self.width as usize + x as usize);
        let alpha = color.alpha.clamp(0.0, 1.0);
        let (r, g, b) = color.rgb;
        for (dst, src) in self.rgb[i..i + 3].iter_mut().zip([r, g, b]) {
            *dst = (f64::from(*dst) * (1.0 - alpha) + f64::from(src) * alpha).round() as u8;
        }
    }
}

impl DrawingBackend for Canvas<'_> {
    type ErrorType = Infallible;

    fn get_size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn ensure_prepared(&mut self) -> DrawResult {
        Ok(())
    }

    fn present(&mut self) -> DrawResult {
        Ok(())
    }

    fn draw_pixel(&mut self, p: BackendCoord, color: BackendColor) -> DrawResult {
        self.blend(p, color);
        Ok(())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> DrawResult {
        if !fill {
            return plotters_backend::rasterizer::draw_rect(
                self,
                upper_left,
                bottom_right,
                style,
                fill,
            );
        }
        // Backgrounds cover most of the image: one blend per pixel,
        // without a line per row.
        let (x0, x1) = (
            upper_left.0.max(0),
            bottom_right.0.min(self.width as i32 - 1),
        );
        let (y0, y1) = (
            upper_left.1.max(0),
            bottom_right.1.min(self.height as i32 - 1),
        );
        for y in y0..=y1 {
            for x in x0..=x1 {
                self.blend((x, y), style.color());
            }
        }
        Ok(())
    }
}

/// A style with the stroke width scaled to the canvas.
struct Scaled<'s, S>(&'s S);

impl<S: BackendStyle> BackendStyle for Scaled<'_, S> {
    fn color(&self) -> BackendColor {
        self.0.color()
    }

    fn stroke_width(&self) -> u32 {
        self.0.stroke_width() * SCALE as u32
    }
}

/// The backend plotters draws on; see the module documentation.
pub(super) struct Supersampled<'a> {
    canvas: Canvas<'a>,
    font: FontRef<'static>,
}

/// White RGB samples for an image of `width` x `height` pixels.
pub(super) fn samples((width, height): (u32, u32)) -> Vec<u8> {
    let s = SCALE as usize;
    vec![255; width as usize * height as usize * s * s * 3]
}

/// The image of `width` x `height` pixels drawn on `samples`: 8-bit
/// RGB, row by row from the top, each pixel the mean of its block.
pub(super) fn downsample(samples: &[u8], (width, height): (u32, u32)) -> Vec<u8> {
    let s = SCALE as usize;
    let (w, h) = (width as usize, height as usize);
    let n = (s * s) as u32;
    let mut image = vec![0; w * h * 3];
    // LOOP 1: image rows; LOOP 2: pixels; LOOP 3: the block's samples.
    for y in 0..h {
        for x in 0..w {
            let mut sum = [0u32; 3];
            for sy in 0..s {
                let row = (y * s + sy) * w * s;
                for sx in 0..s {
                    let i = 3 * (row + x * s + sx);
                    for (total, &sample) in sum.iter_mut().zip(&samples[i..i + 3]) {
                        *total += u32::from(sample);
                    }
                }
            }
            for (pixel, total) in image[3 * (y * w + x)..][..3].iter_mut().zip(sum) {
                *pixel = ((total + n / 2) / n) as u8;
            }
        }
    }
    image
}

impl<'a> Supersampled<'a> {
    /// Draws an image of `width` x `height` pixels on `samples` (from
    /// [`samples`]), text with `font` (TrueType or OpenType data);
    /// `None` if `font` is not a font.
    pub(super) fn new(
        samples: &'a mut [u8],
        (width, height): (u32, u32),
        font: &'static [u8],
    ) -> Option<Self> {
        Some(Supersampled {
            canvas: Canvas {
                rgb: samples,
                width: width * SCALE as u32,
                height: height * SCALE as u32,
            },
            font: FontRef::try_from_slice(font).ok()?,
        })
    }

    /// The canvas pixel of the image point `p` (the block's top-left
    /// sample).
    fn up((x, y): BackendCoord) -> BackendCoord {
        (x * SCALE, y * SCALE)
    }

    /// The canvas pixel nearest to the centre of the image pixel `p`,
    /// for shapes whose points are centres (paths, circles, polygons).
    fn centre((x, y): BackendCoord) -> BackendCoord {
        (x * SCALE + SCALE / 2, y * SCALE + SCALE / 2)
    }
}

impl DrawingBackend for Supersampled<'_> {
    type ErrorType = Infallible;

    fn get_size(&self) -> (u32, u32) {
        let (w, h) = self.canvas.get_size();
        (w / SCALE as u32, h / SCALE as u32)
    }

    fn ensure_prepared(&mut self) -> DrawResult {
        Ok(())
    }

    fn present(&mut self) -> DrawResult {
        Ok(())
    }

    fn draw_pixel(&mut self, p: BackendCoord, color: BackendColor) -> DrawResult {
        let (x, y) = Self::up(p);
        let end = (x + SCALE - 1, y + SCALE - 1);
        self.canvas.draw_rect((x, y), end, &color, true)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> DrawResult {
        let width = style.stroke_width() as i32;
        if width == 0 {
            return Ok(());
        }
        if from.0 == to.0 || from.1 == to.1 {
            // Axes, grid lines, borders: exactly `width` image pixels
            // wide, on whole blocks, so they stay sharp.
            let lo = (from.0.min(to.0), from.1.min(to.1));
            let hi = (from.0.max(to.0), from.1.max(to.1));
            let (before, after) = ((width - 1) / 2, width / 2);
            let (lo, hi) = if from.0 == to.0 {
                ((lo.0 - before, lo.1), (hi.0 + after, hi.1))
            } else {
                ((lo.0, lo.1 - before), (hi.0, hi.1 + after))
            };
            let (x0, y0) = Self::up(lo);
            let (x1, y1) = Self::up(hi);
            return self.canvas.draw_rect(
                (x0, y0),
                (x1 + SCALE - 1, y1 + SCALE - 1),
                &style.color(),
                true,
            );
        }
        self.canvas
            .draw_line(Self::centre(from), Self::centre(to), &Scaled(style))
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> DrawResult {
        if fill {
            let (x0, y0) = Self::up(upper_left);
            let (x1, y1) = Self::up(bottom_right);
            self.canvas
                .draw_rect((x0, y0), (x1 + SCALE - 1, y1 + SCALE - 1), style, true)
        } else {
            plotters_backend::rasterizer::draw_rect(self, upper_left, bottom_right, style, false)
        }
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> DrawResult {
        let points = path.into_iter().map(Self::centre);
        self.canvas.draw_path(points, &Scaled(style))
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> DrawResult {
        let radius = radius * SCALE as u32;
        self.canvas
            .draw_circle(Self::centre(center), radius, &Scaled(style), fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> DrawResult {
        let vertices = vertices.into_iter().map(Self::centre);
        self.canvas.fill_polygon(vertices, style)
    }

    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> DrawResult {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let size = style.size() as f32;
        let font = self.font.as_scaled(size * SCALE as f32);
        let glyphs = layout(&font, text);

        // The box plotters measures (ab_glyph's estimate): the advances,
        // and a height of size / 1.24; capitals and digits are centred
        // in it vertically.
        let width = glyphs.last().map_or(0.0, |&(id, x)| x + font.h_advance(id));
        let height = SCALE as f32 * size / 1.24;
        let cap = font
            .outline_glyph(font.scaled_glyph('H'))
            .map_or(0.7 * height, |g| -g.px_bounds().min.y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        let baseline = dy + (height + cap) / 2.0;

        let transform = style.transform();
        let (ox, oy) = Self::up(pos);
        for (id, x) in glyphs {
            let glyph = id.with_scale_and_position(font.scale(), point(dx + x, baseline));
            let Some(outline) = font.outline_glyph(glyph) else {
                continue; // a space
            };
            let bounds = outline.px_bounds();
            let (left, top) = (bounds.min.x as i32, bounds.min.y as i32);
            outline.draw(|gx, gy, coverage| {
                let (x, y) = transform.transform(left + gx as i32, top + gy as i32);
                self.canvas
                    .blend((ox + x, oy + y), color.mix(coverage.into()));
            });
        }
        Ok(())
    }
}

/// Each glyph of `text` and its pen position: advances plus kerning,
/// as plotters measures text.
fn layout<F: Font>(font: &impl ScaleFont<F>, text: &str) -> Vec<(GlyphId, f32)> {
    let mut caret = 0.0;
    let mut previous = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(previous) = previous {
            caret += font.kern(previous, id);
        }
        glyphs.push((id, caret));
        caret += font.h_advance(id);
        previous = Some(id);
    }
    glyphs
}
