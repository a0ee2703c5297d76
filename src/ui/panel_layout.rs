//! The layout every demo panel shares, figures first: a one-line header (title, the explanation
//! in one line, the controls toggle), the controls in a collapsible side panel on the right, and
//! the figures in all the rest. In presentation mode the demo list, the controls and the full
//! explanation start closed, so the figures fill a projector's 1280×720.

use egui::{Key, KeyboardShortcut, Modifiers, RichText, Ui};

use crate::demos::{Demo, DemoCtx};

/// Which parts of the window are open. The app keeps one for ×1 and one for presentation mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PanelLayout {
    /// The demo list on the left.
    pub side_bar: bool,
    /// The demo's controls on the right.
    pub controls: bool,
    /// The whole explanation at the top of the controls (else only its first line, in the header).
    pub explanation: bool,
}

impl PanelLayout {
    /// At a desk: everything open.
    pub const DESK: Self = Self {
        side_bar: true,
        controls: true,
        explanation: true,
    };
    /// At a projector: the figures alone, until a part is opened.
    pub const PRESENTATION: Self = Self {
        side_bar: false,
        controls: false,
        explanation: false,
    };
}

/// Ctrl+B: show or hide the demo list.
pub const TOGGLE_SIDE_BAR: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::B);
/// Ctrl+J: show or hide the demo's controls.
pub const TOGGLE_CONTROLS: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::J);
/// F11: full screen.
pub const TOGGLE_FULL_SCREEN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F11);

/// The controls panel's starting width (points); the user can drag it.
const CONTROLS_WIDTH: f32 = 300.0;

/// Where the figures were drawn this frame, for tests and for the area they take.
#[derive(Clone, Copy, Debug)]
pub struct PanelAreas {
    /// The part of the window the figures may use (inside the scroll area's viewport).
    pub figures_viewport: egui::Rect,
}

impl Default for PanelAreas {
    fn default() -> Self {
        Self {
            figures_viewport: egui::Rect::NOTHING,
        }
    }
}

/// What lies below the fold of the figure area (a second figure, a table): how far the area
/// scrolls, where it stands, and a jump asked for by the header's buttons or the Down/Up keys.
#[derive(Clone, Copy, Debug, Default)]
struct Fold {
    max_offset: f32,
    offset: f32,
    jump: Option<f32>,
}

/// Less than this below the fold is not worth a button.
const FOLD_MIN: f32 = 24.0;

fn fold_id() -> egui::Id {
    egui::Id::unique("figures-fold")
}

fn fold(ctx: &egui::Context) -> Fold {
    ctx.data(|d| d.get_temp::<Fold>(fold_id()).unwrap_or_default())
}

fn set_fold(ctx: &egui::Context, fold: Fold) {
    ctx.data_mut(|d| d.insert_temp(fold_id(), fold));
}

/// The Down and Up keys (when no text field has focus) jump below the fold and back.
fn fold_keys(ctx: &egui::Context) {
    let mut state = fold(ctx);
    if state.max_offset < FOLD_MIN || ctx.egui_wants_keyboard_input() {
        return;
    }
    let (down, up) = ctx.input_mut(|i| {
        (
            i.consume_key(Modifiers::NONE, Key::ArrowDown),
            i.consume_key(Modifiers::NONE, Key::ArrowUp),
        )
    });
    if down {
        state.jump = Some(state.max_offset);
    } else if up {
        state.jump = Some(0.0);
    }
    set_fold(ctx, state);
}

/// The header's two buttons: the top of the figure area, or what is below its fold.
fn fold_ui(ui: &mut Ui) {
    let mut state = fold(ui.ctx());
    if state.max_offset < FOLD_MIN {
        return;
    }
    let below = state.offset > state.max_offset * 0.5;
    if ui
        .selectable_label(below, "More below")
        .on_hover_text(
            "Scroll the figures to what is below the fold: the second figure, the table (Down key)",
        )
        .clicked()
    {
        state.jump = Some(state.max_offset);
    }
    if ui
        .selectable_label(!below, "Top")
        .on_hover_text("Back to the main figure (Up key)")
        .clicked()
    {
        state.jump = Some(0.0);
    }
    set_fold(ui.ctx(), state);
}

/// One demo panel: header, controls (when built and open) with the panel's *Export figure*
/// section, and figures.
pub fn demo_panel_ui(
    ui: &mut Ui,
    demo: &mut dyn Demo,
    ctx: &mut DemoCtx<'_>,
    layout: &mut PanelLayout,
    exporter: &mut super::export::FigureExporter,
) -> PanelAreas {
    header_ui(ui, demo, layout);
    if demo.is_built() {
        egui::Panel::right("demo-controls")
            .resizable(true)
            .default_size(CONTROLS_WIDTH)
            .size_range(240.0..=720.0)
            .show_collapsible(ui, &mut layout.controls, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("demo-controls-scroll")
                    .auto_shrink(false)
                    .show(ui, |ui| {
                        if layout.explanation {
                            ui.label(demo.explanation());
                            ui.separator();
                        }
                        demo.controls_ui(ui, ctx);
                        exporter.section_ui(ui, ctx.figure_rect, || demo.figure_data());
                    });
            });
    }
    // The central panel takes what the controls leave (a right panel does not shrink the Ui).
    egui::CentralPanel::no_frame()
        .show(ui, |ui| {
            // Keep clear of the scroll bar, which floats over the right edge.
            let scroll = &ui.spacing().scroll;
            let width = ui.available_width() - scroll.bar_width - scroll.bar_outer_margin;
            fold_keys(ui.ctx());
            let mut state = fold(ui.ctx());
            let mut area = egui::ScrollArea::vertical()
                .id_salt("demo-figures-scroll")
                .auto_shrink(false);
            if let Some(offset) = state.jump.take() {
                area = area.vertical_scroll_offset(offset);
            }
            let output = area.show(ui, |ui| {
                // Panels size their pictures to the width they get: without this cap, one
                // row wider than the window widens every later frame's content.
                ui.set_max_width(width);
                demo.poll(ui, ctx);
                super::error_ui(ui, demo.error());
                demo.figures_ui(ui, ctx);
            });
            state.max_offset = (output.content_size.y - output.inner_rect.height()).max(0.0);
            state.offset = output.state.clamped_offset().y;
            set_fold(ui.ctx(), state);
            PanelAreas {
                figures_viewport: output.inner_rect,
            }
        })
        .inner
}

/// Title, the explanation in one line (all of it on hover) and the controls toggle.
fn header_ui(ui: &mut Ui, demo: &dyn Demo, layout: &mut PanelLayout) {
    ui.horizontal(|ui| {
        ui.heading(RichText::new(demo.title()).strong());
        if demo.is_built() {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let shortcut = ui.ctx().format_shortcut(&TOGGLE_CONTROLS);
                ui.toggle_value(&mut layout.controls, "⚙ Controls")
                    .on_hover_text(format!(
                        "Show or hide this demo's controls on the right ({shortcut})"
                    ));
                fold_ui(ui);
                let about = if layout.explanation {
                    "ℹ less"
                } else {
                    "ℹ more"
                };
                if ui
                    .selectable_label(layout.explanation, about)
                    .on_hover_text("The whole explanation, at the top of the controls")
                    .clicked()
                {
                    layout.explanation = !layout.explanation;
                    layout.controls |= layout.explanation;
                }
                if !layout.explanation {
                    ui.add(egui::Label::new(RichText::new(demo.explanation()).weak()).truncate())
                        .on_hover_text(demo.explanation());
                }
            });
        } else {
            ui.label(demo.explanation());
        }
    });
}

/// The window's own shortcuts: the demo list, the controls, full screen.
pub fn handle_layout_shortcuts(ctx: &egui::Context, layout: &mut PanelLayout) {
    let (side_bar, controls, full_screen) = ctx.input_mut(|input| {
        (
            input.consume_shortcut(&TOGGLE_SIDE_BAR),
            input.consume_shortcut(&TOGGLE_CONTROLS),
            input.consume_shortcut(&TOGGLE_FULL_SCREEN),
        )
    });
    layout.side_bar ^= side_bar;
    layout.controls ^= controls;
    if full_screen {
        toggle_full_screen(ctx);
    }
}

pub fn toggle_full_screen(ctx: &egui::Context) {
    let full = ctx.input(|i| i.viewport().fullscreen.unwrap_or(false));
    ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(!full));
}
