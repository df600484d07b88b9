//! Fuzz target `note`: the properties of `overens_fuzz_props::check_note`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = overens_fuzz_props::check_note(data);
});
