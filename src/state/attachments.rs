//! Images a person attaches to a prompt: dropped files and pasted clipboard pixels.

/// An image dropped on the chat, sent with the next prompt.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// Why pasted pixels could not become a PNG.
#[derive(Debug, thiserror::Error)]
pub enum PngError {
    #[error("the pasted image is malformed ({width}x{height}, {bytes} bytes)")]
    Malformed { width: u32, height: u32, bytes: usize },
    #[error(transparent)]
    Encode(#[from] png::EncodingError),
}

/// Encodes straight RGBA pixels (a pasted screenshot) as PNG.
pub fn rgba_to_png(width: u32, height: u32, rgba: &[u8]) -> Result<Vec<u8>, PngError> {
    if width == 0 || height == 0 || rgba.len() != (width as usize) * (height as usize) * 4 {
        return Err(PngError::Malformed {
            width,
            height,
            bytes: rgba.len(),
        });
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgba)?;
    writer.finish()?;
    Ok(out)
}

/// The image media types the Messages API accepts, by file extension.
pub fn image_media_type(path: &std::path::Path) -> Option<&'static str> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "png" => Some("image/png"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn pasted_pixels_become_a_png() {
        let pixels: Vec<u8> = (0..2 * 3 * 4).map(|i| (i * 10) as u8).collect();
        let png = rgba_to_png(2, 3, &pixels).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut back = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut back).unwrap();
        assert_eq!((info.width, info.height), (2, 3));
        assert_eq!(&back[..info.buffer_size()], &pixels[..]);
        assert!(
            rgba_to_png(2, 2, &pixels).is_err(),
            "a size that does not match the bytes is refused"
        );
    }
}
