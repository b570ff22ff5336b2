//! The configured check, kept in the instance between `configure` and the `check` calls.

use std::any::Any;
use std::cell::OnceCell;

thread_local! {
    static CHECK: OnceCell<Box<dyn Any>> = const { OnceCell::new() };
}

/// Stores the configured check; a second `configure` on one instance is an error.
pub fn configure<T: 'static>(check: T) -> Result<(), String> {
    CHECK.with(|cell| {
        cell.set(Box::new(check))
            .map_err(|_| "instance is already configured".to_string())
    })
}

/// Runs `f` on the configured check, or returns an error verdict when `configure` never ran.
pub fn with_check<T: 'static>(f: impl FnOnce(&T) -> crate::Verdict) -> crate::Verdict {
    CHECK.with(
        |cell| match cell.get().and_then(|c| c.downcast_ref::<T>()) {
            Some(check) => f(check),
            None => crate::Verdict::Error("check called before configure".into()),
        },
    )
}
