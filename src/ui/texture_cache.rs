//! A panel's textures, kept while their pixels stay the same (a texture dropped in the frame
//! that made it may never be drawn, and remaking a big one every frame costs).

use egui::{ColorImage, TextureHandle, TextureOptions, Ui};

#[derive(Default)]
pub struct TextureCache {
    kept: std::collections::HashMap<String, (u64, TextureHandle)>,
}

impl TextureCache {
    /// The texture `id`, made again by `image` when `key` differs from the kept one's.
    pub fn get(
        &mut self,
        ui: &Ui,
        id: &str,
        key: u64,
        options: TextureOptions,
        image: impl FnOnce() -> ColorImage,
    ) -> egui::TextureId {
        match self.kept.get(id) {
            Some((k, texture)) if *k == key => texture.id(),
            _ => {
                let texture = ui.ctx().load_texture(id, image(), options);
                let tid = texture.id();
                self.kept.insert(id.to_owned(), (key, texture));
                tid
            }
        }
    }
}
