//! A path field with a "Browse…" button. The native dialog (rfd) runs on its own thread so the
//! window keeps painting; where no dialog can open (on Linux rfd needs a running desktop portal),
//! the typed path works all the same and the reason is shown.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::time::{Duration, Instant};

use egui::Ui;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogKind {
    Open,
    Save,
    /// A folder to open (the filter is not used).
    Folder,
}

/// A dialog that came back this fast was not seen by a person: no dialog could open.
const TOO_FAST_FOR_A_PERSON: Duration = Duration::from_millis(700);

pub struct PathField {
    pub kind: DialogKind,
    /// Shown in the dialog's filter, e.g. ("PNG image", ["png"]).
    filter: (String, Vec<String>),
    pub text: String,
    pending: Option<(Receiver<Option<PathBuf>>, Instant)>,
    /// Why the dialog did not open, or another note for the user.
    pub note: Option<String>,
}

impl PathField {
    pub fn new(kind: DialogKind, filter_name: &str, extensions: &[&str], default: &str) -> Self {
        Self {
            kind,
            filter: (
                filter_name.to_owned(),
                extensions.iter().map(|e| (*e).to_owned()).collect(),
            ),
            text: default.to_owned(),
            pending: None,
            note: None,
        }
    }

    /// The typed path, if any.
    pub fn path(&self) -> Option<PathBuf> {
        let t = self.text.trim();
        (!t.is_empty()).then(|| PathBuf::from(t))
    }

    fn open_dialog(&mut self, ctx: &egui::Context) {
        let (tx, rx) = channel();
        let (name, extensions) = self.filter.clone();
        let kind = self.kind;
        let start_name = self
            .path()
            .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
            .unwrap_or_default();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("file dialog".into())
            .spawn(move || {
                let dialog = rfd::AsyncFileDialog::new().add_filter(name, &extensions);
                let picked = pollster::block_on(async {
                    match kind {
                        DialogKind::Open => dialog.pick_file().await,
                        DialogKind::Save => dialog.set_file_name(start_name).save_file().await,
                        DialogKind::Folder => rfd::AsyncFileDialog::new().pick_folder().await,
                    }
                });
                let _ = tx.send(picked.map(|f| f.path().to_path_buf()));
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => self.pending = Some((rx, Instant::now())),
            Err(e) => self.note = Some(format!("cannot open a file dialog: {e}")),
        }
    }

    /// Polls a dialog in flight; returns the picked path once.
    fn poll(&mut self) -> Option<PathBuf> {
        let (rx, opened) = self.pending.as_ref()?;
        match rx.try_recv() {
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.pending = None;
                self.note = Some("the file dialog crashed; type a path instead".into());
                None
            }
            Ok(None) => {
                if opened.elapsed() < TOO_FAST_FOR_A_PERSON {
                    self.note = Some(
                        "No file dialog could open (on Linux it needs xdg-desktop-portal). \
                         Type a path instead."
                            .into(),
                    );
                }
                self.pending = None;
                None
            }
            Ok(Some(path)) => {
                self.pending = None;
                self.note = None;
                self.text = path.display().to_string();
                Some(path)
            }
        }
    }

    /// Draws `[path field] [Browse…] [action]`. Returns the path when the action button is
    /// clicked, Enter is pressed in the field, or the dialog returns a file.
    pub fn ui(&mut self, ui: &mut Ui, action: &str) -> Option<PathBuf> {
        let mut chosen = self.poll();
        ui.horizontal(|ui| {
            let field = ui.add(
                egui::TextEdit::singleline(&mut self.text)
                    .hint_text("path/to/file")
                    .desired_width(220.0),
            );
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let browsing = self.pending.is_some();
            if ui
                .add_enabled(!browsing, egui::Button::new("Browse…"))
                .on_hover_text("Pick the file in the system's file dialog")
                .clicked()
            {
                self.open_dialog(ui.ctx());
            }
            if browsing {
                ui.spinner();
            }
            if (ui
                .button(action)
                .on_hover_text("Use the path in the field (Enter does the same)")
                .clicked()
                || entered)
                && chosen.is_none()
            {
                chosen = self.path();
                self.note = chosen.is_none().then(|| "type a path first".into());
            }
        });
        if let Some(note) = &self.note {
            ui.colored_label(ui.visuals().warn_fg_color, note);
        }
        chosen
    }
}
