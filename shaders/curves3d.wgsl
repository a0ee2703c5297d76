// 3-D polylines and points as screen-space capsules: every instance is one segment (a point is a
// segment of length zero), expanded to a quad in the vertex shader and cut to a capsule with an
// anti-aliased edge in the fragment shader. Colors are premultiplied on output.

struct Uniforms {
    view_proj: mat4x4<f32>,
    viewport_px: vec2<f32>,
    // Widths are in egui points; this turns them into pixels.
    pixels_per_point: f32,
    _pad: f32,
};

@group(0) @binding(0) var<uniform> u: Uniforms;

struct Segment {
    @location(0) p0: vec3<f32>,
    @location(1) width_pt: f32,
    @location(2) p1: vec3<f32>,
    @location(3) color: vec4<f32>,
};

struct VsOut {
    @builtin(position) position: vec4<f32>,
    @location(0) color: vec4<f32>,
    @location(1) frag_px: vec2<f32>,
    @location(2) a_px: vec2<f32>,
    @location(3) b_px: vec2<f32>,
    @location(4) half_width: f32,
};

fn to_px(clip: vec4<f32>) -> vec2<f32> {
    let ndc = clip.xy / clip.w;
    return (ndc * vec2<f32>(0.5, -0.5) + vec2<f32>(0.5, 0.5)) * u.viewport_px;
}

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32, seg: Segment) -> VsOut {
    var out: VsOut;
    let c0 = u.view_proj * vec4<f32>(seg.p0, 1.0);
    let c1 = u.view_proj * vec4<f32>(seg.p1, 1.0);
    if (c0.w <= 0.0 || c1.w <= 0.0) {
        // Behind the camera: a degenerate triangle outside the clip volume.
        out.position = vec4<f32>(2.0, 2.0, 2.0, 1.0);
        return out;
    }
    let a = to_px(c0);
    let b = to_px(c1);
    let half_width = 0.5 * seg.width_pt * u.pixels_per_point;
    let margin = half_width + 1.5;
    let ab = b - a;
    let len = length(ab);
    var dir = vec2<f32>(1.0, 0.0);
    if (len > 1e-4) {
        dir = ab / len;
    }
    let normal = vec2<f32>(-dir.y, dir.x);
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, 1.0), vec2<f32>(-1.0, 1.0),
    );
    let k = corners[vertex];
    let end = select(a, b, k.x > 0.0);
    let px = end + dir * (k.x * margin) + normal * (k.y * margin);
    let ndc = (px / u.viewport_px - vec2<f32>(0.5, 0.5)) * vec2<f32>(2.0, -2.0);
    out.position = vec4<f32>(ndc, 0.5, 1.0);
    out.color = seg.color;
    out.frag_px = px;
    out.a_px = a;
    out.b_px = b;
    out.half_width = half_width;
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    let pa = in.frag_px - in.a_px;
    let ba = in.b_px - in.a_px;
    let h = clamp(dot(pa, ba) / max(dot(ba, ba), 1e-6), 0.0, 1.0);
    let distance = length(pa - ba * h);
    let coverage = clamp(in.half_width + 0.5 - distance, 0.0, 1.0);
    if (coverage <= 0.0) {
        discard;
    }
    let alpha = in.color.a * coverage;
    return vec4<f32>(in.color.rgb * alpha, alpha);
}
