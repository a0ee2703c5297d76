//! "Export animation": the open panel's figure area written frame by frame while the recorder
//! steps its timeline, as an animated GIF or a numbered PNG sequence. Every panel gets it
//! through the shared timeline: `timeline_ui` obeys the recorder's `Drive` (the first timeline a
//! panel draws is the one animated) and says where it stands (what an example saves). Capture runs on the UI thread, one screenshot a step, two
//! frames after the step is set so that what the panel draws has caught up; encoding is a job
//! with progress and cancel.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Instant;

use anyhow::Context as _;
use egui::{ColorImage, Context, Id, Rect, Ui};

use super::export::{crop, encode_png, scaled_rgba};
use super::timeline::Timeline;
use crate::files::write_atomic;
use crate::jobs::{JobContext, JobError};

/// Frame rates offered, frames per second.
pub const FPS_RANGE: std::ops::RangeInclusive<f32> = 0.5..=30.0;
/// Scales offered: pixels of the file per pixel of the screen.
pub const SCALE_RANGE: std::ops::RangeInclusive<f32> = 1.0..=2.0;
/// The most frames one animation holds (a timeline is scrubbed, not played, so this bounds
/// memory: 500 frames of 1280×720 are 1.8 GB of RGBA).
pub const MAX_FRAMES: usize = 500;

/// What to write: the file, its speed and size, and the steps.
#[derive(Clone, Debug, PartialEq)]
pub struct AnimationSettings {
    /// `NAME.gif`, or `NAME.png` for `NAME-001.png`, `NAME-002.png`, …
    pub path: PathBuf,
    pub fps: f32,
    pub scale: f32,
    /// The first step written (from 0, as the timeline counts).
    pub first: usize,
    /// The last step written; `None` is the timeline's end.
    pub last: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnimationFormat {
    Gif,
    PngSequence,
}

impl AnimationSettings {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            fps: 4.0,
            scale: 1.0,
            first: 0,
            last: None,
        }
    }

    /// The format the path's extension asks for.
    pub fn format(&self) -> Result<AnimationFormat, String> {
        let extension = self
            .path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("gif") => Ok(AnimationFormat::Gif),
            Some("png") => Ok(AnimationFormat::PngSequence),
            _ => Err(format!(
                "{}: an animation is written as .gif, or as .png for a numbered PNG sequence",
                self.path.display()
            )),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        self.format()?;
        if !(self.fps.is_finite() && FPS_RANGE.contains(&self.fps)) {
            return Err(format!("frame rate {} fps is outside 0.5–30", self.fps));
        }
        if !(self.scale.is_finite() && SCALE_RANGE.contains(&self.scale)) {
            return Err(format!("scale ×{} is outside ×1–×2", self.scale));
        }
        if let Some(last) = self.last
            && last < self.first
        {
            return Err(format!(
                "the last step {last} is before the first {}",
                self.first
            ));
        }
        Ok(())
    }

    /// The file of frame `index` (from 0): the path itself for a GIF, `NAME-001.png`… for PNGs.
    pub fn frame_path(&self, index: usize) -> PathBuf {
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.path
            .with_file_name(format!("{stem}-{:03}.png", index + 1))
    }
}

/// Where the recorder tells the timelines which step to show, and they tell it their length.
#[derive(Clone, Copy, Debug, Default)]
struct Drive {
    position: usize,
    /// The driven timeline's length, once one has been drawn.
    len: Option<usize>,
    /// The pass in which a timeline took the drive (only the first timeline of a pass does).
    pass: u64,
    /// Shown once and let go (an example's saved step), rather than held while recording.
    once: bool,
}

/// The first timeline drawn in a pass: its position (what an example saves).
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    pass: u64,
    position: usize,
}

fn seen_id() -> Id {
    Id::unique("timeline-seen")
}

/// The step the open panel's (first) timeline showed last frame, if it drew one.
pub fn shown_step(ctx: &Context) -> Option<usize> {
    let pass = ctx.cumulative_pass_nr();
    ctx.data(|data| data.get_temp::<Seen>(seen_id()))
        .filter(|seen| seen.pass + 1 >= pass)
        .map(|seen| seen.position)
}

/// Shows `step` on the open panel's timeline next frame (once; the timeline is free after).
pub fn show_step(ctx: &Context, step: usize) {
    ctx.data_mut(|data| {
        data.insert_temp(
            drive_id(),
            Some(Drive {
                position: step,
                once: true,
                ..Drive::default()
            }),
        )
    });
    ctx.request_repaint();
}

fn drive_id() -> Id {
    Id::unique("animation-drive")
}

fn request_id() -> Id {
    Id::unique("animation-request")
}

/// Called by every timeline as it is drawn: while an animation is recorded, the first timeline
/// of the frame shows the recorder's step (paused) and reports its length.
pub fn follow_drive(ctx: &Context, timeline: &mut Timeline) {
    let pass = ctx.cumulative_pass_nr();
    if let Some(mut drive) = drive(ctx)
        && !(drive.len.is_some() && drive.pass == pass)
    {
        timeline.pause();
        timeline.scrub(drive.position);
        drive.len = Some(timeline.len());
        drive.pass = pass;
        let kept = (!drive.once).then_some(drive);
        ctx.data_mut(|data| data.insert_temp(drive_id(), kept));
    }
    ctx.data_mut(|data| {
        let seen = data.get_temp_mut_or_default::<Seen>(seen_id());
        if seen.pass != pass {
            *seen = Seen {
                pass,
                position: timeline.position(),
            };
        }
    });
}

/// Asks the app to record the open panel (the export section's button does this).
pub fn request(ctx: &Context, settings: AnimationSettings) {
    ctx.data_mut(|data| data.insert_temp(request_id(), Some(settings)));
    ctx.request_repaint();
}

/// The request made this frame, if any (the app takes it after the panel has drawn).
pub fn take_request(ctx: &Context) -> Option<AnimationSettings> {
    ctx.data_mut(|data| data.remove_temp::<Option<AnimationSettings>>(request_id()))
        .flatten()
}

enum Phase {
    /// The step is set; `passes` more frames are drawn before the screenshot.
    Settle { step: usize, passes: u8 },
    /// The screenshot is on its way.
    Shot {
        step: usize,
        rect: Rect,
        shot: Receiver<Arc<ColorImage>>,
    },
}

/// Frames the panel may take to draw a timeline before the recorder gives up.
const PASSES_TO_FIND_A_TIMELINE: u32 = 30;

/// Records the figure area step by step, on the UI thread.
pub struct Recorder {
    pub settings: AnimationSettings,
    phase: Phase,
    frames: Vec<ColorImage>,
    /// The step range's end, once the timeline's length is known.
    last: Option<usize>,
    waited: u32,
    pub started: Instant,
    /// The tooltip delay before recording (tooltips are held back while it runs: a pointer
    /// resting on the figure must not put one into every frame).
    tooltip_delay: f32,
}

/// What a frame of recording came to.
pub enum Recording {
    /// Still capturing: step `step` of the range `first..=last`.
    Capturing {
        step: usize,
        last: Option<usize>,
    },
    /// Every frame is in: encode them.
    Captured(Vec<ColorImage>),
    Failed(String),
}

impl Recorder {
    pub fn start(ctx: &Context, settings: AnimationSettings) -> Result<Self, String> {
        settings.validate()?;
        let first = settings.first;
        set_drive(ctx, Some(first));
        let tooltip_delay = ctx.global_style().interaction.tooltip_delay;
        ctx.all_styles_mut(|style| style.interaction.tooltip_delay = 1e6);
        ctx.request_repaint();
        Ok(Self {
            settings,
            phase: Phase::Settle {
                step: first,
                passes: 2,
            },
            frames: Vec::new(),
            last: None,
            waited: 0,
            started: Instant::now(),
            tooltip_delay,
        })
    }

    /// One frame, after the panel has drawn its figure in `figure_rect`.
    pub fn frame(&mut self, ctx: &Context, figure_rect: Rect) -> Recording {
        let outcome = self.advance(ctx, figure_rect);
        if !matches!(outcome, Recording::Capturing { .. }) {
            self.stop(ctx);
        }
        outcome
    }

    fn advance(&mut self, ctx: &Context, figure_rect: Rect) -> Recording {
        ctx.request_repaint();
        match &mut self.phase {
            Phase::Settle { step, passes } => {
                let step = *step;
                if *passes > 0 {
                    *passes -= 1;
                    return Recording::Capturing {
                        step,
                        last: self.last,
                    };
                }
                let Some(len) = drive(ctx).and_then(|d| d.len) else {
                    self.waited += 1;
                    if self.waited > PASSES_TO_FIND_A_TIMELINE {
                        return Recording::Failed("this panel shows no timeline to animate".into());
                    }
                    return Recording::Capturing { step, last: None };
                };
                if len == 0 {
                    return Recording::Failed(
                        "the timeline is empty: run the methods first, then export".into(),
                    );
                }
                let last = self.settings.last.unwrap_or(len - 1).min(len - 1);
                if self.settings.first > last {
                    return Recording::Failed(format!(
                        "the first step {} is past the timeline's last, {last}",
                        self.settings.first
                    ));
                }
                if last - self.settings.first + 1 > MAX_FRAMES {
                    return Recording::Failed(format!(
                        "{} steps are more than the {MAX_FRAMES} frames an animation may hold: \
                         choose a shorter range",
                        last - self.settings.first + 1
                    ));
                }
                self.last = Some(last);
                let (tx, rx) = channel();
                let waker = ctx.clone();
                ctx.request_screenshot(move |image| {
                    let _ = tx.send(image);
                    waker.request_repaint();
                });
                self.phase = Phase::Shot {
                    step,
                    rect: figure_rect,
                    shot: rx,
                };
                Recording::Capturing {
                    step,
                    last: self.last,
                }
            }
            Phase::Shot { step, rect, shot } => {
                let step = *step;
                let Ok(image) = shot.try_recv() else {
                    return Recording::Capturing {
                        step,
                        last: self.last,
                    };
                };
                let frame = crop(&image, *rect, ctx.pixels_per_point());
                if frame.size[0] == 0 || frame.size[1] == 0 {
                    return Recording::Failed("the figure is not on screen".into());
                }
                if let Some(first) = self.frames.first()
                    && first.size != frame.size
                {
                    return Recording::Failed(
                        "the figure changed size while recording (the window was resized?)".into(),
                    );
                }
                self.frames.push(frame);
                let last = self.last.unwrap_or(step);
                if step >= last {
                    return Recording::Captured(std::mem::take(&mut self.frames));
                }
                set_drive(ctx, Some(step + 1));
                self.phase = Phase::Settle {
                    step: step + 1,
                    passes: 2,
                };
                Recording::Capturing {
                    step: step + 1,
                    last: self.last,
                }
            }
        }
    }

    /// Gives up the recording (the timelines are free again).
    pub fn cancel(self, ctx: &Context) {
        self.stop(ctx);
    }

    fn stop(&self, ctx: &Context) {
        set_drive(ctx, None);
        let delay = self.tooltip_delay;
        ctx.all_styles_mut(|style| style.interaction.tooltip_delay = delay);
    }
}

fn drive(ctx: &Context) -> Option<Drive> {
    ctx.data(|data| data.get_temp::<Option<Drive>>(drive_id()).flatten())
}

fn set_drive(ctx: &Context, position: Option<usize>) {
    ctx.data_mut(|data| {
        let slot = data.get_temp_mut_or_default::<Option<Drive>>(drive_id());
        match (slot.as_mut(), position) {
            (Some(drive), Some(position)) => drive.position = position,
            (None, Some(position)) => {
                *slot = Some(Drive {
                    position,
                    ..Drive::default()
                })
            }
            (_, None) => *slot = None,
        }
    });
}

/// Writes the captured frames (the encoding job's work): one GIF, or one PNG a frame.
/// Returns what was written, for the status line.
pub fn encode(
    ctx: &JobContext,
    frames: &[ColorImage],
    settings: &AnimationSettings,
) -> Result<String, JobError> {
    let started = Instant::now();
    let format = settings.format().map_err(JobError::Failed)?;
    let failed = |e: anyhow::Error| JobError::Failed(format!("{e:#}"));
    let mut bytes_written = 0;
    let mut size = [0, 0];
    match format {
        AnimationFormat::Gif => {
            let mut bytes = Vec::new();
            {
                let mut encoder = image::codecs::gif::GifEncoder::new_with_speed(&mut bytes, 10);
                encoder
                    .set_repeat(image::codecs::gif::Repeat::Infinite)
                    .context("GIF header")
                    .map_err(failed)?;
                // GIF delays are in hundredths of a second.
                let delay = image::Delay::from_numer_denom_ms(1000, settings.fps.max(0.5) as u32);
                for (i, frame) in frames.iter().enumerate() {
                    ctx.check_cancelled()?;
                    let rgba = scaled_rgba(frame, settings.scale).map_err(failed)?;
                    size = [rgba.width(), rgba.height()];
                    encoder
                        .encode_frame(image::Frame::from_parts(rgba, 0, 0, delay))
                        .context("GIF frame")
                        .map_err(failed)?;
                    ctx.report_fraction((i + 1) as f32 / frames.len() as f32);
                }
            }
            bytes_written = bytes.len();
            write_atomic(&settings.path, &bytes).map_err(failed)?;
        }
        AnimationFormat::PngSequence => {
            for (i, frame) in frames.iter().enumerate() {
                ctx.check_cancelled()?;
                let bytes = encode_png(frame, settings.scale).map_err(failed)?;
                bytes_written += bytes.len();
                write_atomic(&settings.frame_path(i), &bytes).map_err(failed)?;
                ctx.report_fraction((i + 1) as f32 / frames.len() as f32);
            }
            if let Some(frame) = frames.first() {
                size = [
                    (frame.size[0] as f32 * settings.scale).round() as u32,
                    (frame.size[1] as f32 * settings.scale).round() as u32,
                ];
            }
        }
    }
    Ok(format!(
        "wrote {} frames of {}×{} px to {} ({:.0} KiB, encoded in {:.1} s)",
        frames.len(),
        size[0],
        size[1],
        shown_path(settings, format).display(),
        bytes_written as f64 / 1024.0,
        started.elapsed().as_secs_f64()
    ))
}

fn shown_path(settings: &AnimationSettings, format: AnimationFormat) -> PathBuf {
    match format {
        AnimationFormat::Gif => settings.path.clone(),
        AnimationFormat::PngSequence => settings.frame_path(0),
    }
}

/// The step range's "to" that means the timeline's end, whatever its length.
pub const TO_THE_END: usize = 100_000;

/// The animation controls of the export section: rate, scale, steps and the file.
pub fn settings_ui(ui: &mut Ui, fps: &mut f32, scale: &mut f32, range: &mut (usize, usize)) {
    ui.horizontal(|ui| {
        ui.label("frame rate");
        ui.add(
            egui::DragValue::new(fps)
                .range(FPS_RANGE)
                .speed(0.1)
                .suffix(" fps"),
        )
        .on_hover_text("Frames per second in the GIF (one frame is one step of the timeline)");
        ui.label("scale");
        for s in [1.0, 1.5, 2.0] {
            ui.selectable_value(scale, s, format!("×{s}"))
                .on_hover_text("Pixels of the file per pixel of the screen");
        }
    });
    ui.horizontal(|ui| {
        ui.label("steps");
        ui.add(egui::DragValue::new(&mut range.0).range(0..=TO_THE_END - 1))
            .on_hover_text("The first step written (the timeline counts from 0)");
        ui.label("to");
        ui.add(
            egui::DragValue::new(&mut range.1)
                .range(0..=TO_THE_END)
                .custom_formatter(|v, _| {
                    if v >= TO_THE_END as f64 {
                        "the end".to_owned()
                    } else {
                        format!("{v:.0}")
                    }
                })
                .custom_parser(|text| match text.trim() {
                    "the end" | "end" => Some(TO_THE_END as f64),
                    number => number.parse().ok(),
                }),
        )
        .on_hover_text("The last step written (drag to the top for the timeline's end)");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_and_name_their_frames() {
        let ok = AnimationSettings::new("a/b.gif".into());
        assert_eq!(ok.validate(), Ok(()));
        assert_eq!(ok.format(), Ok(AnimationFormat::Gif));
        let png = AnimationSettings::new("a/run.png".into());
        assert_eq!(png.format(), Ok(AnimationFormat::PngSequence));
        assert_eq!(png.frame_path(0), PathBuf::from("a/run-001.png"));
        assert_eq!(png.frame_path(11), PathBuf::from("a/run-012.png"));
        let refused = AnimationSettings::new("a.mp4".into()).validate();
        assert!(refused.is_err_and(|e| e.contains(".gif")));
        for bad in [
            AnimationSettings {
                fps: f32::NAN,
                ..ok.clone()
            },
            AnimationSettings {
                fps: 1000.0,
                ..ok.clone()
            },
            AnimationSettings {
                scale: 5.0,
                ..ok.clone()
            },
            AnimationSettings {
                first: 4,
                last: Some(2),
                ..ok.clone()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        assert!(AnimationSettings::new("x.GIF".into()).validate().is_ok());
    }

    #[test]
    fn a_gif_decodes_to_its_frames_at_the_chosen_scale() {
        use image::AnimationDecoder;
        let dir = tempfile::tempdir().expect("dir");
        let frames: Vec<ColorImage> = (0..3u8)
            .map(|i| ColorImage::new([8, 6], vec![egui::Color32::from_gray(i * 100); 48]))
            .collect();
        let settings = AnimationSettings {
            scale: 2.0,
            ..AnimationSettings::new(dir.path().join("a.gif"))
        };
        let handle = crate::jobs::spawn("gif", || {}, {
            let settings = settings.clone();
            move |ctx| encode(ctx, &frames, &settings)
        })
        .expect("spawn");
        let message = handle.wait().expect("encoded");
        assert!(message.contains("3 frames of 16×12"), "{message}");
        let file = std::io::BufReader::new(std::fs::File::open(&settings.path).expect("open"));
        let decoded = image::codecs::gif::GifDecoder::new(file)
            .expect("gif")
            .into_frames()
            .collect_frames()
            .expect("frames");
        assert_eq!(decoded.len(), 3);
        assert_eq!(decoded[2].buffer().dimensions(), (16, 12));
        // The last frame is light grey (200), the first black: the frames kept their order.
        assert!(decoded[2].buffer().get_pixel(5, 5)[0] > 150);
        assert!(decoded[0].buffer().get_pixel(5, 5)[0] < 50);
    }
}
