//! A session's checkpoints beside its conversation: each with time, trigger, description, files and
//! lines changed; diff against the files now; restore after a preview.

use egui::{Modal, RichText};

use crate::backend::Requests;
use crate::domain::checkpoint::Trigger;
use crate::domain::checkpoint::diff::{FileDiff, SideBySide, Tone};
use crate::domain::checkpoint::requests::{
    CheckpointCreate, CheckpointDiff, CheckpointInterrupted, CheckpointList, CheckpointRecover, CheckpointRestore,
    CheckpointRestorePlan,
};
use crate::domain::checkpoint::restore::RecoverAction;
use crate::state::{CheckpointsStore, PendingRestore, Requested};
use crate::ui::theme;

pub fn timeline_ui(
    ui: &mut egui::Ui,
    store: &mut CheckpointsStore,
    session_id: &str,
    project: &str,
    backend: &Requests,
) {
    let check = store.interrupted.entry(project.to_owned()).or_default();
    if check.never_requested() {
        check.start(backend.dispatch(CheckpointInterrupted {
            project_path: project.into(),
        }));
    }
    if let Some(found) = store.interrupted_of(project) {
        let target = short(&found.target_id).to_owned();
        let mut reopen = false;
        egui::Frame::new()
            .fill(theme::error(ui.visuals()).gamma_multiply(0.15))
            .inner_margin(6)
            .show(ui, |ui| {
                ui.label(
                    RichText::new(format!(
                        "A restore to checkpoint {target} was interrupted: the files may be a mix of two checkpoints."
                    ))
                    .color(theme::error(ui.visuals())),
                );
                reopen = ui.small_button("Finish or roll back…").clicked();
            });
        if reopen {
            store.recover_later.remove(project);
        }
    }
    let stale = store.stale.remove(session_id);
    let list = store.lists.entry(session_id.to_owned()).or_default();
    if list.never_requested() || (stale && !list.is_pending()) {
        list.start(backend.dispatch(CheckpointList {
            project_path: project.into(),
            session_id: Some(session_id.to_owned()),
        }));
    }
    ui.horizontal(|ui| {
        ui.strong("Checkpoints");
        if ui
            .small_button("+ Now")
            .on_hover_text("Take a checkpoint of the project now")
            .clicked()
        {
            backend.dispatch(CheckpointCreate {
                project_path: project.into(),
                session_id: session_id.to_owned(),
                trigger: Trigger::Manual,
                description: Some("Taken by hand".into()),
            });
        }
    });
    let Some(checkpoints) = list.value().cloned() else {
        ui.spinner();
        return;
    };
    if checkpoints.is_empty() {
        ui.label(
            RichText::new("None yet. Turn on checkpoints above, or take one now.")
                .small()
                .color(theme::muted(ui.visuals())),
        );
        return;
    }
    egui::ScrollArea::vertical()
        .id_salt(("timeline", session_id))
        .show(ui, |ui| {
            let mut previous: Option<&str> = None;
            for checkpoint in checkpoints.iter().rev() {
                // A checkpoint whose parent is not the one listed next to it starts a fork.
                let fork =
                    checkpoint.parent_id.is_some() && previous.is_some() && checkpoint.parent_id.as_deref() != previous;
                egui::Frame::new().inner_margin(4).show(ui, |ui| {
                    let time = checkpoint.created_at.get(11..19).unwrap_or(&checkpoint.created_at);
                    ui.label(
                        RichText::new(format!(
                            "{}{time} · {}",
                            if fork { "🔀 " } else { "" },
                            checkpoint.trigger.label()
                        ))
                        .strong(),
                    );
                    if let Some(description) = &checkpoint.description {
                        ui.label(RichText::new(description).small());
                    }
                    ui.label(
                        RichText::new(format!(
                            "{} files · +{} −{}",
                            checkpoint.files_changed, checkpoint.lines_added, checkpoint.lines_removed
                        ))
                        .small()
                        .color(theme::muted(ui.visuals())),
                    );
                    ui.horizontal(|ui| {
                        if ui.small_button("Diff with now").clicked() {
                            let request = backend.dispatch(CheckpointDiff {
                                project_path: project.into(),
                                from: checkpoint.id.clone(),
                                to: None,
                            });
                            let mut diffs = Requested::default();
                            diffs.start(request);
                            store.diff = Some((format!("Changes since {time}"), diffs));
                        }
                        if ui.small_button("Restore…").clicked() {
                            let mut plan = Requested::default();
                            plan.start(backend.dispatch(CheckpointRestorePlan {
                                project_path: project.into(),
                                id: checkpoint.id.clone(),
                            }));
                            store.restore = Some(PendingRestore {
                                checkpoint_id: checkpoint.id.clone(),
                                session_id: session_id.to_owned(),
                                project: project.to_owned(),
                                plan,
                            });
                        }
                    });
                });
                ui.separator();
                previous = Some(checkpoint.id.as_str());
            }
        });
}

/// The first characters of a checkpoint id, as the timeline shows it.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn inline_ui(ui: &mut egui::Ui, diff: &FileDiff) {
    let (removed, added) = (theme::error(ui.visuals()), theme::success(ui.visuals()));
    for (line, tone) in diff.inline_rows() {
        let text = RichText::new(line).monospace();
        ui.label(match tone {
            Tone::Added => text.color(added),
            Tone::Removed => text.color(removed),
            Tone::Plain => text,
        });
    }
}

/// Old on the left, new on the right; changed lines tinted, removed or added lines facing a blank.
fn side_by_side_ui(ui: &mut egui::Ui, diff: &FileDiff) {
    let (removed, added) = (theme::error(ui.visuals()), theme::success(ui.visuals()));
    let muted = theme::muted(ui.visuals());
    let half = (ui.available_width() - 16.0) / 2.0;
    egui::Grid::new(("side-by-side", diff.path.as_str()))
        .num_columns(2)
        .min_col_width(half)
        .max_col_width(half)
        .spacing([8.0, 0.0])
        .show(ui, |ui| {
            for row in diff.side_by_side_rows() {
                let cell = |ui: &mut egui::Ui, text: Option<&str>, color: Option<egui::Color32>| {
                    let text = RichText::new(text.unwrap_or("")).monospace();
                    ui.add(
                        egui::Label::new(match color {
                            Some(c) => text.color(c),
                            None => text,
                        })
                        .truncate(),
                    );
                };
                match row {
                    SideBySide::Hunk(h) => {
                        cell(ui, Some(h), Some(muted));
                        cell(ui, None, None);
                    }
                    SideBySide::Same(line) => {
                        cell(ui, Some(line), None);
                        cell(ui, Some(line), None);
                    }
                    SideBySide::Changed(old, new) => {
                        cell(ui, old, Some(removed));
                        cell(ui, new, Some(added));
                    }
                }
                ui.end_row();
            }
        });
}

/// The dialog for an interrupted restore: Finish, Roll back or Later.
fn recover_ui(ctx: &egui::Context, store: &mut CheckpointsStore, backend: &Requests) {
    let Some((project, found)) = store.to_recover() else {
        return;
    };
    let mut chosen = None;
    let mut later = false;
    let modal = Modal::new(egui::Id::unique("checkpoint-recover")).show(ctx, |ui| {
        ui.set_width(560.0);
        ui.heading("A restore was interrupted");
        ui.label(format!(
            "Restoring {project} to checkpoint {} stopped part way (ANYON was stopped), so its files may be a mix \
             of two checkpoints. Finish the restore, or roll it back to the files as they were before it \
             (checkpoint {}).",
            short(&found.target_id),
            short(&found.before_id)
        ));
        let busy = store
            .recovering
            .as_ref()
            .filter(|(of, _)| *of == project)
            .map(|(_, r)| (r.is_pending(), r.error().map(str::to_owned)));
        if let Some((_, Some(error))) = &busy {
            ui.label(RichText::new(error).color(theme::error(ui.visuals())));
        }
        let pending = busy.as_ref().is_some_and(|(pending, _)| *pending);
        ui.horizontal(|ui| {
            if ui.add_enabled(!pending, egui::Button::new("Finish")).clicked() {
                chosen = Some(RecoverAction::Finish);
            }
            if ui.add_enabled(!pending, egui::Button::new("Roll back")).clicked() {
                chosen = Some(RecoverAction::Rollback);
            }
            if ui.button("Later").clicked() {
                later = true;
            }
            if pending {
                ui.spinner();
            }
        });
    });
    if let Some(action) = chosen {
        let mut request = Requested::default();
        request.start(backend.dispatch(CheckpointRecover {
            project_path: project.clone().into(),
            action,
        }));
        store.recovering = Some((project.clone(), request));
    }
    if later || modal.should_close() {
        store.recover_later.insert(project);
    }
}

/// The diff, restore and interrupted-restore dialogs.
pub fn dialogs_ui(ctx: &egui::Context, store: &mut CheckpointsStore, backend: &Requests) {
    recover_ui(ctx, store, backend);
    if let Some((title, diffs)) = &store.diff {
        let mut close = false;
        let modal = Modal::new(egui::Id::unique("checkpoint-diff")).show(ctx, |ui| {
            ui.set_width(760.0);
            ui.heading(title.as_str());
            ui.horizontal(|ui| {
                ui.selectable_value(&mut store.side_by_side, false, "Inline");
                ui.selectable_value(&mut store.side_by_side, true, "Side by side");
            });
            match (diffs.value(), diffs.error()) {
                (_, Some(error)) => {
                    ui.label(RichText::new(error).color(theme::error(ui.visuals())));
                }
                (Some(diffs), None) if diffs.is_empty() => {
                    ui.label("No changes.");
                }
                (Some(diffs), None) => {
                    egui::ScrollArea::vertical().max_height(480.0).show(ui, |ui| {
                        for diff in diffs {
                            ui.label(
                                RichText::new(format!(
                                    "{} ({}{})",
                                    diff.path,
                                    diff.change,
                                    if diff.binary { ", binary" } else { "" }
                                ))
                                .strong(),
                            );
                            if store.side_by_side {
                                side_by_side_ui(ui, diff);
                            } else {
                                inline_ui(ui, diff);
                            }
                            ui.add_space(6.0);
                        }
                    });
                }
                (None, None) => {
                    ui.spinner();
                }
            }
            if ui.button("Close").clicked() {
                close = true;
            }
        });
        if close || modal.should_close() {
            store.diff = None;
        }
    }
    if let Some(pending) = &store.restore {
        let (mut close, mut confirm, mut fork) = (false, false, false);
        let modal = Modal::new(egui::Id::unique("checkpoint-restore")).show(ctx, |ui| {
            ui.set_width(560.0);
            ui.heading("Restore this checkpoint?");
            match (pending.plan.value(), pending.plan.error()) {
                (_, Some(error)) => {
                    ui.label(RichText::new(error).color(theme::error(ui.visuals())));
                }
                (Some(plan), None) => {
                    ui.label(format!(
                        "{} file(s) written, {} deleted, {} kept as they are, {} unchanged. Ignored files are not touched; a checkpoint of the files now is taken first, so this can be undone.",
                        plan.write.len(),
                        plan.delete.len(),
                        plan.keep.len(),
                        plan.unchanged
                    ));
                    egui::ScrollArea::vertical().max_height(240.0).show(ui, |ui| {
                        for path in &plan.write {
                            ui.label(RichText::new(format!("write  {path}")).monospace());
                        }
                        for path in &plan.delete {
                            ui.label(RichText::new(format!("delete {path}")).monospace().color(theme::error(ui.visuals())));
                        }
                        for kept in &plan.keep {
                            ui.label(
                                RichText::new(format!(
                                    "kept   {} (cannot be restored: {})",
                                    kept.path,
                                    kept.reason.label()
                                ))
                                .monospace()
                                .color(theme::muted(ui.visuals())),
                            );
                        }
                    });
                    let nothing = plan.write.is_empty() && plan.delete.is_empty();
                    if ui.add_enabled(!nothing, egui::Button::new(RichText::new("Restore").strong())).clicked() {
                        confirm = true;
                    }
                    let hint = "Restore these files and continue the conversation as a new session in a new tab";
                    if ui.button("Restore and fork from here").on_hover_text(hint).clicked() {
                        confirm = true;
                        fork = true;
                    }
                }
                (None, None) => {
                    ui.spinner();
                }
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
        });
        if confirm {
            backend.dispatch(CheckpointRestore {
                project_path: pending.project.clone().into(),
                id: pending.checkpoint_id.clone(),
            });
        }
        if fork {
            store.fork = Some((pending.project.clone(), pending.session_id.clone()));
        }
        if confirm || close || modal.should_close() {
            store.restore = None;
        }
    }
}
