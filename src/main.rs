use std::process::ExitCode;
use std::time::Instant;

use inference_lab::app::{AnimateAtStart, AnimationOutcome, InferenceLab, Startup};
use inference_lab::backend::{AdapterSummary, choose_compute, choose_renderer, probe_adapters};
use inference_lab::bench::frames::FrameBench;
use inference_lab::cli::{Cli, RendererRequest};
use inference_lab::render::PaintMode;
use inference_lab::ui::animation::AnimationSettings;

fn main() -> ExitCode {
    let process_start = Instant::now();
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("warn,inference_lab=info"),
    )
    .init();
    let invocation = inference_lab::cli::parse();
    if invocation.has_action() {
        let arguments: Vec<String> = std::env::args().skip(1).collect();
        inference_lab::terminal::report_panics_in_one_line(format!(
            "inference-lab {}",
            arguments.join(" ")
        ));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            inference_lab::cli::run(&invocation)
        }));
        return match outcome {
            Ok(Ok(())) => ExitCode::SUCCESS,
            Ok(Err(err)) => {
                eprintln!("error: {err:#}");
                ExitCode::FAILURE
            }
            // The panic hook has said what happened.
            Err(_) => ExitCode::from(101),
        };
    }
    if let Some(name) = &invocation.cli.demo
        && !inference_lab::demos::names().contains(&name.as_str())
    {
        eprintln!(
            "error: unknown demo `{name}` (known: {})",
            inference_lab::demos::names().join(", ")
        );
        return ExitCode::FAILURE;
    }
    if let Some(path) = &invocation.cli.example
        && let Err(e) = inference_lab::example_file::ExampleFile::open(path)
    {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    let animation = match invocation.cli.animation().transpose() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = AnimationOutcome::default();
    let animate = animation.map(|settings| (settings, outcome.clone()));
    match run_window(&invocation.cli, process_start, animate) {
        Ok(()) => match outcome.lock().map(|o| o.clone()) {
            Ok(Some(Ok(message))) => {
                println!("{message}");
                ExitCode::SUCCESS
            }
            Ok(Some(Err(e))) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
            Ok(None) if invocation.cli.animate.is_some() => {
                eprintln!("error: the window closed before the animation was written");
                ExitCode::FAILURE
            }
            _ => ExitCode::SUCCESS,
        },
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn renderer_label(renderer: eframe::Renderer, adapters: &[AdapterSummary]) -> String {
    match (renderer, adapters.first()) {
        (eframe::Renderer::Wgpu, Some(a)) => format!("wgpu · {} ({})", a.name, a.api),
        (eframe::Renderer::Wgpu, None) => "wgpu".to_owned(),
        (eframe::Renderer::Glow, Some(a)) => format!("glow (software adapter: {})", a.name),
        (eframe::Renderer::Glow, None) => "glow".to_owned(),
    }
}

fn run_window(
    cli: &Cli,
    process_start: Instant,
    animate: Option<(AnimationSettings, AnimationOutcome)>,
) -> anyhow::Result<()> {
    let adapters = probe_adapters();
    let compute = choose_compute(cli.backend, &adapters);
    let preferred = match cli.renderer {
        RendererRequest::Auto => choose_renderer(&adapters),
        RendererRequest::Wgpu => eframe::Renderer::Wgpu,
        RendererRequest::Glow => eframe::Renderer::Glow,
    };
    log::info!("window renderer: {}", renderer_label(preferred, &adapters));
    let fallback = match preferred {
        eframe::Renderer::Wgpu => eframe::Renderer::Glow,
        eframe::Renderer::Glow => eframe::Renderer::Wgpu,
    };
    let mut last_error = None;
    for renderer in [preferred, fallback] {
        let startup = Startup {
            compute: compute.clone(),
            renderer_label: renderer_label(renderer, &adapters),
            paint_mode: match renderer {
                eframe::Renderer::Wgpu => PaintMode::Wgpu,
                eframe::Renderer::Glow => PaintMode::Egui,
            },
            demo: cli.demo.clone(),
            bench: cli.bench_frames.map(|n| FrameBench::new(n, process_start)),
            animate: animate
                .clone()
                .map(|(settings, outcome)| AnimateAtStart::new(settings, outcome)),
            example: cli.example.clone(),
        };
        let options = eframe::NativeOptions {
            renderer,
            viewport: egui::ViewportBuilder::default()
                .with_title("inference-lab")
                .with_app_id("inference-lab")
                .with_inner_size([1400.0, 900.0])
                .with_min_inner_size([800.0, 560.0]),
            ..Default::default()
        };
        match eframe::run_native(
            "inference-lab",
            options,
            Box::new(move |cc| Ok(Box::new(InferenceLab::from_creation_context(cc, startup)))),
        ) {
            Ok(()) => return Ok(()),
            Err(err) => {
                log::warn!("the {renderer:?} renderer failed to start: {err}");
                last_error = Some(err);
            }
        }
    }
    Err(anyhow::anyhow!(
        "no renderer could open a window: {}",
        last_error.map_or_else(|| "unknown".to_owned(), |e| e.to_string())
    ))
}
