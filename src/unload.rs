//! Keeping the plugin library mapped for the life of the process.
//!
//! Why: threads started by this library (the shared engine worker, which lives as long as the
//! process) and thread-exit cleanup registered by its code (Rust's thread-local destructors, which
//! std runs from a `pthread_key` destructor, and glibc does not count those against `dlclose`) would
//! call into unmapped code once a host `dlclose`s the library and a thread then exits: a crash at
//! thread exit, long after the plugin was removed. So the first call into the library promotes its
//! own handle to `RTLD_NODELETE`: `dlclose` then leaves it mapped, and a later `dlopen` of the same
//! path gets the same, still-running copy (statics such as the engine included). The cost: the
//! library's memory stays until the process exits. Sound because `RTLD_NOLOAD` only finds the
//! already-loaded object (it cannot load a second copy) and `RTLD_NODELETE` only ever extends its
//! lifetime.

use std::sync::Once;

static PINNED: Once = Once::new();

/// Pins the library that contains this function. Idempotent, cheap after the first call.
pub fn pin_library() {
    PINNED.call_once(|| {
        #[cfg(unix)]
        pin_unix();
    });
}

#[cfg(unix)]
fn pin_unix() {
    // SAFETY: dladdr only reads the loader's tables for an address inside this library; the path it
    // returns stays valid while the library is loaded, which it is during this call. dlopen with
    // RTLD_NOLOAD never loads or initializes anything; the handle is deliberately leaked.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        let here = pin_library as *const libc::c_void;
        if libc::dladdr(here, &mut info) == 0 || info.dli_fname.is_null() {
            return;
        }
        let handle = libc::dlopen(info.dli_fname, libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE);
        let _ = handle;
    }
}

/// Whether this library is pinned (for tests).
pub fn is_pinned() -> bool {
    PINNED.is_completed()
}

/// Runs when the loader maps the library, before any host call: nothing this library registers can
/// outlive its mapping, not even what the CLAP `init` or VST3 factory calls set up.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static PIN_AT_LOAD: extern "C" fn() = {
    extern "C" fn pin_at_load() {
        pin_library();
    }
    pin_at_load
};
