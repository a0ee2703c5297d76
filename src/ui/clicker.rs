//! A presenter's remote and the keys of a slide deck: PageDown and PageUp (what most remotes
//! send) step the open panel's timeline and, at its end or start (or on a panel without one),
//! move to the next or previous panel; B or . blanks the screen, and B, ., Escape or a click
//! brings it back. No key acts while a text field has focus.

use egui::{Color32, Context, Key, Modifiers};

/// The keys, as the welcome page and the tooltips list them.
pub const KEYS_HELP: &str = "Keys (when no text field has focus): Space play/pause, Left/Right arrows step, \
     Home first, End last; PageDown / PageUp (a presenter's remote) step and, at the timeline's \
     end or start, go to the next or previous panel; Down / Up show what is below the figure \
     (a second figure, the table) and go back; B or . blanks the screen.";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanelMove {
    Next,
    Previous,
}

/// What the panel's timeline left of PageDown and PageUp (a move to another panel), and whether
/// B or . asked for the blank screen to be toggled. Call after the panel has drawn.
pub fn leftover_keys(ctx: &Context) -> (Option<PanelMove>, bool) {
    if ctx.egui_wants_keyboard_input() {
        return (None, false);
    }
    ctx.input_mut(|input| {
        let next = input.consume_key(Modifiers::NONE, Key::PageDown);
        let previous = input.consume_key(Modifiers::NONE, Key::PageUp);
        let blank = input.consume_key(Modifiers::NONE, Key::B)
            | input.consume_key(Modifiers::NONE, Key::Period);
        let moved = match (next, previous) {
            (true, false) => Some(PanelMove::Next),
            (false, true) => Some(PanelMove::Previous),
            _ => None,
        };
        (moved, blank)
    })
}

/// The panel after a move among the welcome page (`None`) and `count` panels, in order; the
/// ends stay where they are.
pub fn moved(selected: Option<usize>, count: usize, to: PanelMove) -> Option<usize> {
    match (to, selected) {
        (PanelMove::Next, None) if count > 0 => Some(0),
        (PanelMove::Next, Some(i)) => Some((i + 1).min(count.saturating_sub(1))),
        (PanelMove::Previous, Some(0)) => None,
        (PanelMove::Previous, Some(i)) => Some(i - 1),
        (_, selected) => selected,
    }
}

/// The blank screen over everything; whether Escape or a click dismissed it.
pub fn blank_ui(ctx: &Context) -> bool {
    let rect = ctx.content_rect();
    let response = egui::Area::new(egui::Id::unique("blank-screen"))
        .order(egui::Order::Foreground)
        .fixed_pos(rect.min)
        .show(ctx, |ui| {
            let (rect, response) = ui.allocate_exact_size(rect.size(), egui::Sense::click());
            ui.painter().rect_filled(rect, 0.0, Color32::BLACK);
            response
        })
        .inner;
    let escape = ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape));
    response.clicked() || escape
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_walk_the_panels_in_order_and_stop_at_the_ends() {
        assert_eq!(moved(None, 3, PanelMove::Next), Some(0));
        assert_eq!(moved(Some(0), 3, PanelMove::Next), Some(1));
        assert_eq!(moved(Some(2), 3, PanelMove::Next), Some(2));
        assert_eq!(moved(Some(1), 3, PanelMove::Previous), Some(0));
        assert_eq!(moved(Some(0), 3, PanelMove::Previous), None);
        assert_eq!(moved(None, 3, PanelMove::Previous), None);
        assert_eq!(moved(None, 0, PanelMove::Next), None);
    }
}
