//! The wgpu paint callback that draws a [`Scene3d`] with `shaders/curves3d.wgsl`.

use std::collections::HashMap;
use std::sync::Arc;

use bytemuck::{Pod, Zeroable};
use eframe::egui_wgpu::{self, CallbackResources, CallbackTrait, ScreenDescriptor};
use eframe::wgpu;
use glam::Mat4;

use super::scene::SegmentInstance;

const SHADER: &str = include_str!("../../shaders/curves3d.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Uniforms {
    view_proj: [f32; 16],
    viewport_px: [f32; 2],
    pixels_per_point: f32,
    _pad: f32,
}

struct ViewBuffers {
    uniform: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    instances: wgpu::Buffer,
    capacity: usize,
    count: u32,
    /// The scene version the instance buffer holds, so an unchanged scene is not re-uploaded.
    generation: u64,
}

/// GPU state shared by every 3-D view, kept in egui-wgpu's callback resources.
pub struct CurvesRenderer {
    pipeline: wgpu::RenderPipeline,
    bind_group_layout: wgpu::BindGroupLayout,
    views: HashMap<egui::Id, ViewBuffers>,
}

/// Builds the pipeline once, at start-up, when the window renders with wgpu.
pub fn install(render_state: &egui_wgpu::RenderState) {
    let renderer = CurvesRenderer::new(&render_state.device, render_state.target_format);
    render_state
        .renderer
        .write()
        .callback_resources
        .insert(renderer);
}

impl CurvesRenderer {
    /// Compiles the shader and builds the pipeline for a target of `format`.
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Self {
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("curves3d"),
            source: wgpu::ShaderSource::Wgsl(SHADER.into()),
        });
        let bind_group_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("curves3d uniforms"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("curves3d"),
            bind_group_layouts: &[Some(&bind_group_layout)],
            immediate_size: 0,
        });
        let attributes =
            wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32, 2 => Float32x3, 3 => Float32x4];
        // Attribute 3 (color) sits after the 4-byte pad at offset 28.
        let attributes = [
            attributes[0],
            attributes[1],
            attributes[2],
            wgpu::VertexAttribute {
                offset: 32,
                ..attributes[3]
            },
        ];
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("curves3d"),
            layout: Some(&layout),
            vertex: wgpu::VertexState {
                module: &shader,
                entry_point: Some("vs_main"),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                buffers: &[Some(wgpu::VertexBufferLayout {
                    array_stride: std::mem::size_of::<SegmentInstance>() as u64,
                    step_mode: wgpu::VertexStepMode::Instance,
                    attributes: &attributes,
                })],
            },
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            fragment: Some(wgpu::FragmentState {
                module: &shader,
                entry_point: Some("fs_main"),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format,
                    blend: Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING),
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            multiview_mask: None,
            cache: None,
        });
        Self {
            pipeline,
            bind_group_layout,
            views: HashMap::new(),
        }
    }
}

/// One frame of one view.
pub struct CurvesCallback {
    pub view: egui::Id,
    pub view_proj: Mat4,
    pub size_points: egui::Vec2,
    pub instances: Arc<Vec<SegmentInstance>>,
    pub generation: u64,
}

impl CallbackTrait for CurvesCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        screen: &ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(renderer) = resources.get_mut::<CurvesRenderer>() else {
            return Vec::new();
        };
        let CurvesRenderer {
            bind_group_layout,
            views,
            ..
        } = renderer;
        let needed = self.instances.len().max(1);
        let view = views.entry(self.view).or_insert_with(|| {
            let uniform = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("curves3d uniforms"),
                size: std::mem::size_of::<Uniforms>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("curves3d uniforms"),
                layout: bind_group_layout,
                entries: &[wgpu::BindGroupEntry {
                    binding: 0,
                    resource: uniform.as_entire_binding(),
                }],
            });
            ViewBuffers {
                uniform,
                bind_group,
                instances: instance_buffer(device, needed),
                capacity: needed,
                count: 0,
                generation: u64::MAX,
            }
        });
        if view.capacity < needed {
            view.instances = instance_buffer(device, needed.next_power_of_two());
            view.capacity = needed.next_power_of_two();
            view.generation = u64::MAX;
        }
        if view.generation != self.generation {
            queue.write_buffer(&view.instances, 0, bytemuck::cast_slice(&self.instances));
            view.count = self.instances.len() as u32;
            view.generation = self.generation;
        }
        let uniforms = Uniforms {
            view_proj: self.view_proj.to_cols_array(),
            viewport_px: [
                self.size_points.x * screen.pixels_per_point,
                self.size_points.y * screen.pixels_per_point,
            ],
            pixels_per_point: screen.pixels_per_point,
            _pad: 0.0,
        };
        queue.write_buffer(&view.uniform, 0, bytemuck::bytes_of(&uniforms));
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &CallbackResources,
    ) {
        let Some(renderer) = resources.get::<CurvesRenderer>() else {
            return;
        };
        let Some(view) = renderer.views.get(&self.view) else {
            return;
        };
        if view.count == 0 {
            return;
        }
        pass.set_pipeline(&renderer.pipeline);
        pass.set_bind_group(0, &view.bind_group, &[]);
        pass.set_vertex_buffer(0, view.instances.slice(..));
        pass.draw(0..6, 0..view.count);
    }
}

fn instance_buffer(device: &wgpu::Device, capacity: usize) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("curves3d instances"),
        size: (capacity * std::mem::size_of::<SegmentInstance>()) as u64,
        usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The WGSL compiles and the pipeline validates on whatever adapter exists (lavapipe in CI).
    #[test]
    fn shader_compiles_and_pipeline_validates() {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        let adapter =
            pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
                .expect("a wgpu adapter (install mesa-vulkan-drivers for a software one)");
        let (device, _queue) =
            pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default()))
                .expect("a wgpu device");
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let _renderer = CurvesRenderer::new(&device, wgpu::TextureFormat::Rgba8Unorm);
        let error = pollster::block_on(scope.pop());
        assert!(error.is_none(), "validation error: {error:?}");
    }
}
