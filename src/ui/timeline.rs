//! The timeline: play, pause, step and scrub through the iterations (or time steps) of a trace.

use egui::{Key, Ui};

use super::text_width;

/// Playback state over a trace of `len` frames. Pure state machine: the widget below drives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    len: usize,
    position: usize,
    playing: bool,
    /// Frames per second while playing.
    pub speed_fps: f32,
    /// Whether playback starts over at the end instead of stopping.
    pub looping: bool,
    carry_secs: f32,
}

pub const SPEED_RANGE_FPS: std::ops::RangeInclusive<f32> = 0.5..=120.0;

impl Default for Timeline {
    fn default() -> Self {
        Self::new(0)
    }
}

impl Timeline {
    pub fn new(len: usize) -> Self {
        Self {
            len,
            position: 0,
            playing: false,
            speed_fps: 10.0,
            looping: false,
            carry_secs: 0.0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn position(&self) -> usize {
        self.position
    }

    pub fn is_playing(&self) -> bool {
        self.playing
    }

    fn last(&self) -> usize {
        self.len.saturating_sub(1)
    }

    /// A new trace length (e.g. a new run): keeps the position where it still exists.
    pub fn set_len(&mut self, len: usize) {
        self.len = len;
        self.position = self.position.min(self.last());
        if len == 0 {
            self.playing = false;
        }
    }

    pub fn play(&mut self) {
        if self.len == 0 {
            return;
        }
        // Playing from the end starts over, as media players do.
        if self.position == self.last() {
            self.position = 0;
        }
        self.playing = true;
        self.carry_secs = 0.0;
    }

    pub fn pause(&mut self) {
        self.playing = false;
    }

    pub fn toggle(&mut self) {
        if self.playing {
            self.pause();
        } else {
            self.play();
        }
    }

    pub fn step_forward(&mut self) {
        self.playing = false;
        self.position = (self.position + 1).min(self.last());
    }

    pub fn step_back(&mut self) {
        self.playing = false;
        self.position = self.position.saturating_sub(1);
    }

    pub fn reset(&mut self) {
        self.playing = false;
        self.position = 0;
        self.carry_secs = 0.0;
    }

    pub fn go_to_end(&mut self) {
        self.playing = false;
        self.position = self.last();
    }

    /// Jumps to `position` (clamped), as dragging the scrubber does.
    pub fn scrub(&mut self, position: usize) {
        self.position = position.min(self.last());
    }

    /// Advances playback by `dt_secs` of wall time; returns whether the position changed.
    pub fn advance(&mut self, dt_secs: f32) -> bool {
        if !self.playing || self.len == 0 {
            return false;
        }
        let speed = self
            .speed_fps
            .clamp(*SPEED_RANGE_FPS.start(), *SPEED_RANGE_FPS.end());
        self.carry_secs += dt_secs.max(0.0);
        let frames = (self.carry_secs * speed).floor();
        if frames < 1.0 {
            return false;
        }
        self.carry_secs -= frames / speed;
        let before = self.position;
        let target = self.position + frames as usize;
        if target > self.last() {
            if self.looping {
                self.position = target % self.len;
            } else {
                self.position = self.last();
                self.playing = false;
            }
        } else {
            self.position = target;
        }
        self.position != before
    }

    /// Space, ←, →, Home, End. Ignored while a text field has the keyboard.
    pub fn handle_keys(&mut self, ui: &Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        ui.input_mut(|input| {
            if input.consume_key(egui::Modifiers::NONE, Key::Space) {
                self.toggle();
            }
            if input.consume_key(egui::Modifiers::NONE, Key::ArrowLeft) {
                self.step_back();
            }
            if input.consume_key(egui::Modifiers::NONE, Key::ArrowRight) {
                self.step_forward();
            }
            if input.consume_key(egui::Modifiers::NONE, Key::Home) {
                self.reset();
            }
            if input.consume_key(egui::Modifiers::NONE, Key::End) {
                self.go_to_end();
            }
            // A presenter's remote: at the ends the key is left for the app (another panel).
            if self.position() < self.last()
                && input.consume_key(egui::Modifiers::NONE, Key::PageDown)
            {
                self.step_forward();
            }
            if self.position() > 0 && input.consume_key(egui::Modifiers::NONE, Key::PageUp) {
                self.step_back();
            }
        });
    }
}

/// The timeline bar: buttons, scrubber, speed. `label` names the current frame, e.g. "iteration 3";
/// `one_based` counts frames from 1 (the estimate after step k of n) instead of from 0 (time t).
/// Handles the keyboard and advances playback, requesting repaints while playing.
pub fn timeline_ui(ui: &mut Ui, timeline: &mut Timeline, label: &str, one_based: bool) {
    super::animation::follow_drive(ui.ctx(), timeline);
    timeline.handle_keys(ui);
    let dt = ui.input(|i| i.stable_dt).min(0.1);
    timeline.advance(dt);
    if timeline.is_playing() {
        ui.ctx().request_repaint();
    }
    ui.add_enabled_ui(!timeline.is_empty(), |ui| {
        let compact = ui
            .horizontal(|ui| {
                if ui
                    .button("⏮")
                    .on_hover_text("Reset to the first step (Home)")
                    .clicked()
                {
                    timeline.reset();
                }
                if ui
                    .button("⏴")
                    .on_hover_text("Step back (Left arrow, or PageUp on a presenter's remote)")
                    .clicked()
                {
                    timeline.step_back();
                }
                let (icon, tip) = if timeline.is_playing() {
                    ("⏸", "Pause (Space)")
                } else {
                    ("▶", "Play (Space)")
                };
                if ui.button(icon).on_hover_text(tip).clicked() {
                    timeline.toggle();
                }
                if ui
                    .button("⏵")
                    .on_hover_text("Step forward (Right arrow, or PageDown on a presenter's remote; at the end it goes to the next panel)")
                    .clicked()
                {
                    timeline.step_forward();
                }
                // Right to left: loop, speed and the step count keep their size at the right end,
                // and the slider takes what is left, so the row never runs past the window. Where
                // even that does not fit, speed and loop move to a row of their own below.
                let step_text = step_label(timeline, label, one_based);
                let playback_width = text_width(ui, "speed 10.0 fps loop") + 80.0;
                let compact = ui.available_width()
                    < text_width(ui, &step_text) + text_width(ui, "scrub") + playback_width + 120.0;
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if !compact {
                        playback_ui(ui, timeline);
                    }
                    let last = timeline.len().saturating_sub(1);
                    ui.label(step_text);
                    let mut position = timeline.position();
                    let scrub_width = text_width(ui, "scrub");
                    ui.spacing_mut().slider_width =
                        (ui.available_width() - scrub_width - 2.0 * ui.spacing().item_spacing.x)
                            .max(40.0);
                    let slider = ui
                        .add(egui::Slider::new(&mut position, 0..=last).show_value(false))
                        .on_hover_text("Scrub through the steps");
                    let scrub_label = ui.label("scrub");
                    if slider.labelled_by(scrub_label.id).changed() {
                        timeline.scrub(position);
                    }
                });
                compact
            })
            .inner;
        if compact {
            ui.horizontal(|ui| {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    playback_ui(ui, timeline);
                });
            });
        }
    });
}

/// "time step 3 / 399": where the timeline stands.
fn step_label(timeline: &Timeline, label: &str, one_based: bool) -> String {
    let shift = usize::from(one_based);
    let last = timeline.len().saturating_sub(1);
    format!("{label} {} / {}", timeline.position() + shift, last + shift)
}

/// Loop and speed, laid out right to left.
fn playback_ui(ui: &mut Ui, timeline: &mut Timeline) {
    ui.checkbox(&mut timeline.looping, "loop")
        .on_hover_text("Start again from the first step after the last");
    let speed = ui
        .add(
            egui::DragValue::new(&mut timeline.speed_fps)
                .range(SPEED_RANGE_FPS)
                .speed(0.2)
                .suffix(" fps"),
        )
        .on_hover_text("Playback speed, in steps per second (drag or type)");
    let speed_label = ui.label("speed");
    let _ = speed.labelled_by(speed_label.id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn steps_clamp_at_both_ends() {
        let mut t = Timeline::new(3);
        t.step_back();
        assert_eq!(t.position(), 0);
        t.step_forward();
        t.step_forward();
        t.step_forward();
        assert_eq!(t.position(), 2);
        t.reset();
        assert_eq!(t.position(), 0);
    }

    #[test]
    fn playing_advances_with_time_and_stops_at_the_end() {
        let mut t = Timeline::new(5);
        t.speed_fps = 10.0;
        t.play();
        assert!(!t.advance(0.05), "half a frame moves nothing");
        assert!(t.advance(0.05));
        assert_eq!(t.position(), 1);
        t.advance(10.0);
        assert_eq!(t.position(), 4);
        assert!(!t.is_playing());
        t.play();
        assert_eq!(t.position(), 0, "play at the end starts over");
    }

    #[test]
    fn looping_wraps_around() {
        let mut t = Timeline::new(4);
        t.looping = true;
        t.speed_fps = 1.0;
        t.scrub(3);
        t.playing = true;
        t.advance(1.0);
        assert_eq!(t.position(), 0);
        assert!(t.is_playing());
    }

    #[test]
    fn empty_timeline_never_plays() {
        let mut t = Timeline::new(0);
        t.play();
        assert!(!t.is_playing());
        assert!(!t.advance(1.0));
        t.step_forward();
        assert_eq!(t.position(), 0);
    }

    #[test]
    fn shrinking_keeps_position_valid() {
        let mut t = Timeline::new(10);
        t.scrub(9);
        t.set_len(4);
        assert_eq!(t.position(), 3);
    }

    proptest! {
        #[test]
        fn position_stays_in_range(len in 0usize..50, ops in prop::collection::vec(0u8..7, 0..60), dt in 0.0f32..3.0) {
            let mut t = Timeline::new(len);
            for op in ops {
                match op {
                    0 => t.play(),
                    1 => t.pause(),
                    2 => t.step_forward(),
                    3 => t.step_back(),
                    4 => t.scrub(usize::from(op) * 7),
                    5 => { t.advance(dt); }
                    _ => t.set_len(len / 2),
                }
                prop_assert!(t.position() <= t.len().saturating_sub(1));
            }
        }
    }
}
