//! Every color and size the screens use, for light and dark.

use egui::{Color32, CornerRadius, Margin, Style, Visuals};

/// Width of the left navigation.
pub const NAV_WIDTH: f32 = 184.0;
/// Height of a chat tab.
pub const TAB_HEIGHT: f32 = 28.0;
/// Widest a chat tab grows before its title is cut.
pub const TAB_MAX_WIDTH: f32 = 220.0;
/// Padding inside a screen.
pub const SCREEN_MARGIN: Margin = Margin::symmetric(24, 18);
/// Space under a screen heading.
pub const HEADING_GAP: f32 = 12.0;
/// Rounding of cards and toasts.
pub const CARD_RADIUS: CornerRadius = CornerRadius::same(8);
/// Width of a toast.
pub const TOAST_WIDTH: f32 = 340.0;
/// Widest text column for explanations (keeps lines readable).
pub const PROSE_WIDTH: f32 = 560.0;

/// The brand accent.
pub fn accent(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0xE0, 0x8A, 0x5F)
    } else {
        Color32::from_rgb(0xC2, 0x5E, 0x32)
    }
}

/// Secondary text (hints, captions).
pub fn muted(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_gray(150)
    } else {
        Color32::from_gray(105)
    }
}

/// Errors.
pub fn error(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0xF2, 0x6D, 0x6D)
    } else {
        Color32::from_rgb(0xB4, 0x23, 0x18)
    }
}

/// Warnings (near a limit).
pub fn warning(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0xE8, 0xB3, 0x4A)
    } else {
        Color32::from_rgb(0x9A, 0x62, 0x00)
    }
}

/// Success and "running" indicators.
pub fn success(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0x6C, 0xC6, 0x84)
    } else {
        Color32::from_rgb(0x1E, 0x7A, 0x3C)
    }
}

/// Background of the navigation and the status bar.
pub fn chrome_fill(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_gray(24)
    } else {
        Color32::from_gray(238)
    }
}

/// Background of cards (empty states, toasts).
pub fn card_fill(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_gray(36)
    } else {
        Color32::from_gray(250)
    }
}

/// Tunes egui's default style for both themes: roomier spacing and the accent for selection.
pub fn apply(ctx: &egui::Context) {
    ctx.all_styles_mut(|style: &mut Style| {
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
        style.spacing.button_padding = egui::vec2(10.0, 4.0);
        style.spacing.interact_size.y = 24.0;
        let accent = accent(&style.visuals);
        style.visuals.selection.bg_fill = accent.gamma_multiply(0.35);
        style.visuals.selection.stroke.color = accent;
        style.visuals.hyperlink_color = accent;
    });
}

/// Numbers in data grids.
pub fn number(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0x8C, 0xB4, 0xF0)
    } else {
        Color32::from_rgb(0x1F, 0x4E, 0x9A)
    }
}

/// Background of code and SQL shown for reading.
pub fn code_fill(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_gray(18)
    } else {
        Color32::from_gray(244)
    }
}
