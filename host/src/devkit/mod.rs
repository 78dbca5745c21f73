//! `weir plugin new | build | inspect`: writing a plugin project from a
//! template, building it to a component, and showing what a component is
//! and asks for.
//!
//! Templates are `templates/<lang>/<kind>/` at the repository root, embedded
//! in the binary: a language or kind is a folder there, found at run time,
//! so adding one needs no code change. Every project holds a
//! `weir-plugin.toml` saying how to build it and where the component lands.

mod builder;
mod error;
mod manifest;
mod scaffold;

pub use builder::build;
pub use error::DevkitError;
pub use manifest::{MANIFEST, Manifest};
pub use scaffold::{Kind, NewPlugin, default_sdk_path, languages, new_project};
