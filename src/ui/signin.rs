//! The sign-in part of the Account screen: Google sign-in through the browser, the waiting state,
//! the signed-in person with their plan, and sign-out.

use egui::{RichText, Ui};

use super::ScreenContext;
use super::theme;
use super::widgets::error_line;
use crate::domain::signin::AccountView;
use crate::domain::signin::requests::{Request, SignInCancel, SignInStart, SignOut};

pub fn ui(ui: &mut Ui, cx: &mut ScreenContext<'_>) {
    let busy = cx.stores.account.busy.is_some();
    let picture = cx.stores.account.picture(ui.ctx()).cloned();
    let mut command = None;
    egui::Frame::group(ui.style())
        .fill(theme::card_fill(ui.visuals()))
        .inner_margin(12.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width().min(560.0));
            match &cx.stores.account.view {
                AccountView::SignedOut { notice } => {
                    ui.label(RichText::new("Sign in to ANYON").strong().size(16.0));
                    ui.label(
                        "Signing in with Google keeps your ANYON settings and subscription with your account. \
                         Everything else works without an account.",
                    );
                    if let Some(notice) = notice {
                        ui.label(RichText::new(notice).color(theme::muted(ui.visuals())));
                    }
                    ui.add_space(6.0);
                    ui.horizontal(|ui| {
                        let button = ui.add_enabled(!busy, egui::Button::new("Sign in with Google"));
                        if button.clicked() {
                            command = Some(Request::from(SignInStart { open_browser: true }));
                        }
                        if busy {
                            ui.spinner();
                        }
                    });
                }
                AccountView::Waiting { url } => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label(RichText::new("Finish signing in in your browser").strong());
                    });
                    ui.label(
                        "When the browser asks to open ANYON, allow it. If nothing happens, open the page again, \
                         or run `anyon register-scheme` once so the browser can find ANYON.",
                    );
                    ui.add_space(6.0);
                    ui.horizontal(|ui| {
                        if ui.button("Open the page again").clicked() {
                            ui.ctx().open_url(egui::OpenUrl::new_tab(url.clone()));
                        }
                        if ui.button("Copy the address").clicked() {
                            ui.ctx().copy_text(url.clone());
                        }
                        if ui.button("Cancel").clicked() {
                            command = Some(Request::from(SignInCancel));
                        }
                    });
                }
                AccountView::SignedIn {
                    user,
                    server,
                    token_storage,
                } => {
                    ui.horizontal(|ui| {
                        avatar(ui, user.display_name(), picture.as_ref());
                        ui.vertical(|ui| {
                            ui.label(RichText::new(user.display_name()).strong().size(16.0));
                            ui.label(&user.email);
                        });
                    });
                    ui.add_space(6.0);
                    egui::Grid::new("account-details")
                        .num_columns(2)
                        .spacing([16.0, 4.0])
                        .show(ui, |ui| {
                            if let Some(plan) = &user.subscription {
                                ui.weak("Plan");
                                let status = plan.status.as_deref().filter(|s| *s != "active");
                                ui.label(match status {
                                    Some(status) => format!("{} ({status})", plan.plan),
                                    None => plan.plan.clone(),
                                });
                                ui.end_row();
                            }
                            if let Some(picture) = &user.picture {
                                ui.weak("Picture");
                                ui.hyperlink_to("open", picture);
                                ui.end_row();
                            }
                            ui.weak("Token kept in");
                            ui.label(token_storage);
                            ui.end_row();
                            ui.weak("Server");
                            ui.label(server);
                            ui.end_row();
                        });
                    ui.add_space(6.0);
                    ui.horizontal(|ui| {
                        if ui.add_enabled(!busy, egui::Button::new("Sign out")).clicked() {
                            command = Some(Request::from(SignOut));
                        }
                        if busy {
                            ui.spinner();
                        }
                    });
                }
            }
            if let Some(error) = &cx.stores.account.error {
                ui.add_space(6.0);
                error_line(ui, error);
            }
        });
    if let Some(command) = command {
        let request = cx.backend.dispatch(command);
        cx.stores.account.started(request);
    }
}

/// The person's picture, or a round badge with their initial until it arrives (or when there is none).
fn avatar(ui: &mut Ui, name: &str, picture: Option<&egui::TextureHandle>) {
    if let Some(picture) = picture {
        ui.add(
            egui::Image::new(picture)
                .fit_to_exact_size(egui::vec2(40.0, 40.0))
                .corner_radius(20.0),
        )
        .on_hover_text(name);
        return;
    }
    let (rect, _) = ui.allocate_exact_size(egui::vec2(40.0, 40.0), egui::Sense::hover());
    let accent = theme::accent(ui.visuals());
    ui.painter().circle_filled(rect.center(), 20.0, accent);
    let initial = name
        .chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    ui.painter().text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        initial,
        egui::FontId::proportional(20.0),
        egui::Color32::WHITE,
    );
}
