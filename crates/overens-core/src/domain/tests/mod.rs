//! Given/when/then tests for every rule of `docs/rules.md`: each accepted and each refused
//! case, through the whole path (sign → verify → decide → evolve). Every refused event is
//! also checked to leave the state untouched (see [`fixture::World::submit`]).

mod agreement;
mod batch;
mod chain;
mod directory;
mod draft_changes;
mod fixture;
mod proposals;
mod renegotiation;
mod sharing;
mod signatures;
mod termination;
mod void;
mod withdrawal;
