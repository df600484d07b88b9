//! The `directory` stream: parties, their signatories' keys, and revocations.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use super::{Actor, Rejection, Stamp};
use crate::crypto::PublicKey;
use crate::event::{Event, PartyRegistered, SignatoryEnrolled, SignatoryRevoked};
use crate::id::PartyId;

/// The domain-separation prefix of a proof of possession.
pub const ENROLL_PREFIX: &[u8] = b"overens/enroll/v1\n";

/// The bytes a new key signs to prove its holder has it: `overens/enroll/v1\n<party>\n<key>`.
pub fn enrollment_message(party: &PartyId, key: &PublicKey) -> Vec<u8> {
    let mut message = ENROLL_PREFIX.to_vec();
    message.extend_from_slice(party.as_str().as_bytes());
    message.push(b'\n');
    message.extend_from_slice(key.to_string().as_bytes());
    message
}

/// Who exists and who may sign for whom.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    registrars: BTreeSet<PublicKey>,
    parties: BTreeMap<PartyId, Party>,
    signatories: BTreeMap<PublicKey, Signatory>,
    /// How each registrar and signatory is shown, made once: every entry of a timeline,
    /// proposal and signature points at one of these instead of keeping its own copy.
    actors: BTreeMap<PublicKey, Arc<Actor>>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Party {
    pub id: PartyId,
    pub name: String,
    pub registered: Stamp,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signatory {
    pub key: PublicKey,
    pub party: PartyId,
    pub name: String,
    pub role: String,
    pub enrolled: Stamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub revoked: Option<Revocation>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revocation {
    pub reason: String,
    pub by: PublicKey,
    pub stamp: Stamp,
}

impl Directory {
    pub fn new(registrars: impl IntoIterator<Item = PublicKey>) -> Self {
        let registrars: BTreeSet<PublicKey> = registrars.into_iter().collect();
        let actors = registrars
            .iter()
            .map(|key| (*key, Arc::new(registrar_actor(key))))
            .collect();
        Directory {
            registrars,
            actors,
            ..Directory::default()
        }
    }

    pub fn registrars(&self) -> &BTreeSet<PublicKey> {
        &self.registrars
    }

    pub fn is_registrar(&self, key: &PublicKey) -> bool {
        self.registrars.contains(key)
    }

    pub fn party(&self, id: &PartyId) -> Option<&Party> {
        self.parties.get(id)
    }

    pub fn parties(&self) -> impl Iterator<Item = &Party> {
        self.parties.values()
    }

    pub fn signatory(&self, key: &PublicKey) -> Option<&Signatory> {
        self.signatories.get(key)
    }

    pub fn signatories(&self) -> impl Iterator<Item = &Signatory> {
        self.signatories.values()
    }

    /// The party's display name, or its id if it is unknown.
    pub fn party_name(&self, id: &PartyId) -> String {
        self.party(id)
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    }

    /// An enrolled signatory whose key has not been revoked: the only kind that signs
    /// agreement events.
    pub fn active_signatory(&self, key: &PublicKey) -> Result<&Signatory, Rejection> {
        let signatory = self
            .signatories
            .get(key)
            .ok_or(Rejection::UnknownSigner { key: *key })?;
        if let Some(revoked) = &signatory.revoked {
            return Err(Rejection::RevokedKey {
                key: *key,
                revoked_at: revoked.stamp.index,
            });
        }
        Ok(signatory)
    }

    /// How a signer is shown in views: a registrar, or a party's named signatory. Shared:
    /// the directory makes one per key.
    pub fn actor(&self, key: &PublicKey) -> Arc<Actor> {
        match self.actors.get(key) {
            Some(actor) => Arc::clone(actor),
            None => Arc::new(registrar_actor(key)),
        }
    }

    pub(super) fn decide(&self, event: &Event, signer: &PublicKey) -> Result<(), Rejection> {
        let require_registrar = |event: &'static str| {
            if self.is_registrar(signer) {
                Ok(())
            } else {
                Err(Rejection::NotARegistrar {
                    event,
                    key: *signer,
                })
            }
        };
        match event {
            Event::PartyRegistered(PartyRegistered { party, name }) => {
                require_registrar("PartyRegistered")?;
                non_empty("name", name)?;
                if self.parties.contains_key(party) {
                    return Err(Rejection::PartyAlreadyRegistered(party.clone()));
                }
                Ok(())
            }
            Event::SignatoryEnrolled(SignatoryEnrolled {
                party,
                key,
                name,
                role,
                proof,
            }) => {
                require_registrar("SignatoryEnrolled")?;
                non_empty("name", name)?;
                non_empty("role", role)?;
                if !self.parties.contains_key(party) {
                    return Err(Rejection::UnknownParty(party.clone()));
                }
                if key.is_weak() {
                    return Err(Rejection::WeakKey(*key));
                }
                if self.is_registrar(key) {
                    return Err(Rejection::RegistrarKeyAsSignatory(*key));
                }
                if self.signatories.contains_key(key) {
                    return Err(Rejection::KeyAlreadyEnrolled(*key));
                }
                if !key.verify(&enrollment_message(party, key), proof) {
                    return Err(Rejection::BadProofOfPossession);
                }
                Ok(())
            }
            Event::SignatoryRevoked(SignatoryRevoked { key, reason }) => {
                non_empty("reason", reason)?;
                let Some(target) = self.signatories.get(key) else {
                    return Err(Rejection::NotEnrolled(*key));
                };
                if !self.is_registrar(signer) && signer != key {
                    return Err(Rejection::NotAllowedToRevoke { key: *key });
                }
                // A key that revokes itself must still be live to do so.
                if signer == key {
                    self.active_signatory(signer)?;
                }
                if target.revoked.is_some() {
                    return Err(Rejection::AlreadyRevoked(*key));
                }
                Ok(())
            }
            _ => unreachable!("envelope verification keeps agreement events out of `directory`"),
        }
    }

    pub(super) fn evolve(&mut self, event: &Event, signer: &PublicKey, stamp: Stamp) {
        match event {
            Event::PartyRegistered(e) => {
                self.parties.insert(
                    e.party.clone(),
                    Party {
                        id: e.party.clone(),
                        name: e.name.clone(),
                        registered: stamp,
                    },
                );
            }
            Event::SignatoryEnrolled(e) => {
                self.actors.insert(
                    e.key,
                    Arc::new(Actor {
                        key: e.key,
                        party: Some(e.party.clone()),
                        name: e.name.clone(),
                        role: e.role.clone(),
                    }),
                );
                self.signatories.insert(
                    e.key,
                    Signatory {
                        key: e.key,
                        party: e.party.clone(),
                        name: e.name.clone(),
                        role: e.role.clone(),
                        enrolled: stamp,
                        revoked: None,
                    },
                );
            }
            Event::SignatoryRevoked(e) => {
                if let Some(s) = self.signatories.get_mut(&e.key) {
                    s.revoked = Some(Revocation {
                        reason: e.reason.clone(),
                        by: *signer,
                        stamp,
                    });
                }
            }
            _ => unreachable!("envelope verification keeps agreement events out of `directory`"),
        }
    }
}

fn registrar_actor(key: &PublicKey) -> Actor {
    Actor {
        key: *key,
        party: None,
        name: "registrar".into(),
        role: "registrar".into(),
    }
}

pub(super) fn non_empty(field: &'static str, value: &str) -> Result<(), Rejection> {
    if value.trim().is_empty() {
        Err(Rejection::Empty { field })
    } else {
        Ok(())
    }
}
