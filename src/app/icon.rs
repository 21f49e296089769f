//! The window icon, drawn in code so the binary needs no image decoder: a rounded square in the
//! brand colour with a lighter ring.

/// Side of the icon in pixels.
pub const SIZE: u32 = 64;

/// The icon as straight RGBA pixels, row by row.
pub fn rgba() -> Vec<u8> {
    let size = SIZE as f32;
    let center = size / 2.0 - 0.5;
    let mut pixels = Vec::with_capacity((SIZE * SIZE * 4) as usize);
    for y in 0..SIZE {
        for x in 0..SIZE {
            let (fx, fy) = (x as f32, y as f32);
            let square = rounded_square_coverage(fx, fy, size, 14.0);
            let distance = ((fx - center).powi(2) + (fy - center).powi(2)).sqrt();
            let ring = (1.0 - ((distance - 17.0).abs() - 4.0).clamp(0.0, 1.0)) * square;
            let base = [0xC2_u8, 0x5E, 0x32];
            let light = [0xFA_u8, 0xE3, 0xD3];
            let mix = |a: u8, b: u8| (f32::from(a) * (1.0 - ring) + f32::from(b) * ring).round() as u8;
            pixels.extend_from_slice(&[
                mix(base[0], light[0]),
                mix(base[1], light[1]),
                mix(base[2], light[2]),
                (square * 255.0).round() as u8,
            ]);
        }
    }
    pixels
}

/// Anti-aliased coverage of a square with rounded corners of `radius`.
fn rounded_square_coverage(x: f32, y: f32, size: f32, radius: f32) -> f32 {
    let half = size / 2.0;
    let (px, py) = ((x + 0.5 - half).abs(), (y + 0.5 - half).abs());
    let (qx, qy) = (px - (half - radius), py - (half - radius));
    let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt() + qx.max(qy).min(0.0) - radius;
    (0.5 - outside).clamp(0.0, 1.0)
}

/// The icon for eframe's viewport.
pub fn icon_data() -> egui::IconData {
    egui::IconData {
        rgba: rgba(),
        width: SIZE,
        height: SIZE,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    #[test]
    fn icon_has_transparent_corners_and_an_opaque_middle() {
        let pixels = super::rgba();
        assert_eq!(pixels.len(), (super::SIZE * super::SIZE * 4) as usize);
        let alpha = |x: u32, y: u32| pixels[((y * super::SIZE + x) * 4 + 3) as usize];
        assert_eq!(alpha(0, 0), 0);
        assert_eq!(alpha(32, 32), 255);
    }
}
