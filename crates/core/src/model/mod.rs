//! Canonical records, one per vertical. Every field is optional where real data may lack
//! it; what a record does not model is still kept in the item's original representation.

mod contact;
mod event;
mod file;
mod mail;
mod media;
mod task;

pub use contact::{Address, Contact, ContactName, TypedValue};
pub use event::{Alarm, Attendee, DateOrDateTime, Event};
pub use file::FileEntry;
pub use mail::MailMessage;
pub use media::{GeoPosition, MediaItem};
pub use task::Task;
