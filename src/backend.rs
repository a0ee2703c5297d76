//! Which device burn computes on, and which renderer draws the window.
//!
//! Measured on this project's 2-core machine: burn's wgpu backend on Mesa's software Vulkan
//! (llvmpipe) ran a small MLP training step ~100x slower than burn's CPU backend (`flex`), and
//! eframe's wgpu renderer drew 5x fewer frames than glow. So a software adapter is never the
//! default for compute, and on a software adapter the window renders with glow.

use std::fmt;

use burn::tensor::{Device, DeviceKind};
use eframe::wgpu;

/// What the user asked for on the command line (`--backend`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendRequest {
    /// wgpu on a hardware adapter, the CPU otherwise.
    #[default]
    Auto,
    /// wgpu even on a software adapter.
    Gpu,
    /// burn's CPU backend (`flex`).
    Cpu,
}

/// The class of a wgpu adapter, as far as compute speed is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterClass {
    Discrete,
    Integrated,
    Virtual,
    Software,
}

/// One adapter wgpu reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterSummary {
    pub name: String,
    pub api: String,
    pub class: AdapterClass,
}

impl AdapterSummary {
    pub fn is_hardware(&self) -> bool {
        matches!(
            self.class,
            AdapterClass::Discrete | AdapterClass::Integrated
        )
    }

    /// burn's name for this adapter kind (index 0 of its class, as burn counts them).
    fn device_kind(&self) -> DeviceKind {
        match self.class {
            AdapterClass::Discrete => DeviceKind::DiscreteGpu(0),
            AdapterClass::Integrated => DeviceKind::IntegratedGpu(0),
            AdapterClass::Virtual => DeviceKind::VirtualGpu(0),
            AdapterClass::Software => DeviceKind::Cpu,
        }
    }
}

/// Lists the adapters wgpu can see on the native APIs (Vulkan, Metal, DX12), best first.
pub fn probe_adapters() -> Vec<AdapterSummary> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::PRIMARY,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY));
    let mut summaries: Vec<AdapterSummary> = adapters
        .iter()
        .map(|adapter| {
            let info = adapter.get_info();
            let class = match info.device_type {
                wgpu::DeviceType::DiscreteGpu => AdapterClass::Discrete,
                wgpu::DeviceType::IntegratedGpu => AdapterClass::Integrated,
                wgpu::DeviceType::VirtualGpu => AdapterClass::Virtual,
                wgpu::DeviceType::Cpu | wgpu::DeviceType::Other => AdapterClass::Software,
            };
            AdapterSummary {
                name: info.name,
                api: format!("{:?}", info.backend),
                class,
            }
        })
        .collect();
    summaries.sort_by_key(|a| a.class as u8);
    summaries
}

/// The compute device chosen for burn, with the reason shown in the UI and the log.
#[derive(Clone, Debug)]
pub struct ComputeChoice {
    pub device: Device,
    pub kind: ComputeKind,
    /// Short label for the top bar, e.g. `wgpu · NVIDIA RTX 4070` or `CPU`.
    pub label: String,
    /// One sentence: why this device.
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComputeKind {
    Cpu,
    Wgpu { software: bool },
}

impl ComputeChoice {
    pub fn cpu(reason: impl Into<String>) -> Self {
        Self {
            device: Device::flex(),
            kind: ComputeKind::Cpu,
            label: "CPU".to_owned(),
            reason: reason.into(),
        }
    }

    pub fn is_wgpu(&self) -> bool {
        matches!(self.kind, ComputeKind::Wgpu { .. })
    }
}

impl fmt::Display for ComputeChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.label, self.reason)
    }
}

/// Decides, without touching a device, which adapter burn should use (None = the CPU), and why.
pub fn decide(
    request: BackendRequest,
    adapters: &[AdapterSummary],
) -> (Option<AdapterSummary>, String) {
    let hardware = adapters.iter().find(|a| a.is_hardware());
    match request {
        BackendRequest::Cpu => (None, "--backend cpu was requested".to_owned()),
        BackendRequest::Auto => match hardware {
            Some(a) => (
                Some(a.clone()),
                format!("hardware GPU adapter found ({})", a.name),
            ),
            None if adapters.is_empty() => (None, "no wgpu adapter found".to_owned()),
            None => (
                None,
                "only a software wgpu adapter found, which computes ~100x slower than the CPU backend"
                    .to_owned(),
            ),
        },
        BackendRequest::Gpu => match hardware.or(adapters.first()) {
            Some(a) => (
                Some(a.clone()),
                format!("--backend gpu was requested ({})", a.name),
            ),
            None => (
                None,
                "--backend gpu was requested but no wgpu adapter exists; using the CPU".to_owned(),
            ),
        },
    }
}

/// Picks and initialises burn's device. Never fails: any wgpu error falls back to the CPU.
pub fn choose_compute(request: BackendRequest, adapters: &[AdapterSummary]) -> ComputeChoice {
    let (adapter, reason) = decide(request, adapters);
    let choice = match adapter {
        None => ComputeChoice::cpu(reason),
        Some(adapter) => match Device::wgpu_options()
            .device_kind(adapter.device_kind())
            .init()
        {
            Ok(device) => ComputeChoice {
                device,
                kind: ComputeKind::Wgpu {
                    software: !adapter.is_hardware(),
                },
                label: format!("wgpu · {}", adapter.name),
                reason,
            },
            Err(err) => ComputeChoice::cpu(format!(
                "wgpu failed to start on {} ({err}); using the CPU",
                adapter.name
            )),
        },
    };
    log::info!("compute device: {choice}");
    choice
}

/// The compute device for a command-line run: the GPU adapters are probed only when the
/// request may use one (a CPU run must not touch the GPU stack, nor print its warnings).
pub fn compute_for(request: BackendRequest) -> ComputeChoice {
    let adapters = match request {
        BackendRequest::Cpu => Vec::new(),
        BackendRequest::Auto | BackendRequest::Gpu => probe_adapters(),
    };
    choose_compute(request, &adapters)
}

/// Whether `device` compiles kernels on first use (wgpu), so its first steps are slow.
pub fn compiles_kernels(device: &Device) -> bool {
    device.identity().is_some()
}

/// Which renderer eframe should use: wgpu on hardware, glow on a software adapter (5x faster there).
pub fn choose_renderer(adapters: &[AdapterSummary]) -> eframe::Renderer {
    if adapters.iter().any(AdapterSummary::is_hardware) {
        eframe::Renderer::Wgpu
    } else {
        eframe::Renderer::Glow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(name: &str, class: AdapterClass) -> AdapterSummary {
        AdapterSummary {
            name: name.to_owned(),
            api: "Vulkan".to_owned(),
            class,
        }
    }

    #[test]
    fn auto_never_computes_on_a_software_adapter() {
        let (chosen, reason) = decide(
            BackendRequest::Auto,
            &[adapter("llvmpipe", AdapterClass::Software)],
        );
        assert!(chosen.is_none());
        assert!(reason.contains("software"));
    }

    #[test]
    fn auto_takes_hardware_over_software() {
        let adapters = [
            adapter("llvmpipe", AdapterClass::Software),
            adapter("RTX", AdapterClass::Discrete),
        ];
        let (chosen, _) = decide(BackendRequest::Auto, &adapters);
        assert_eq!(chosen.map(|a| a.name), Some("RTX".to_owned()));
    }

    #[test]
    fn gpu_request_accepts_software_and_cpu_request_refuses_hardware() {
        let soft = [adapter("llvmpipe", AdapterClass::Software)];
        assert!(decide(BackendRequest::Gpu, &soft).0.is_some());
        let hard = [adapter("RTX", AdapterClass::Discrete)];
        assert!(decide(BackendRequest::Cpu, &hard).0.is_none());
        assert!(decide(BackendRequest::Gpu, &[]).0.is_none());
    }

    #[test]
    fn the_cpu_device_compiles_no_kernels() {
        assert!(!compiles_kernels(&Device::flex()));
        assert!(!compiles_kernels(&Device::flex().autodiff()));
    }

    #[test]
    fn renderer_is_glow_without_hardware() {
        assert_eq!(
            choose_renderer(&[adapter("llvmpipe", AdapterClass::Software)]),
            eframe::Renderer::Glow
        );
        assert_eq!(
            choose_renderer(&[adapter("RTX", AdapterClass::Discrete)]),
            eframe::Renderer::Wgpu
        );
    }
}
