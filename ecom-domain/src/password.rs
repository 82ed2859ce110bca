//! Passwords: a [`Password`] is plaintext that never prints, a [`PasswordHash`] is the
//! argon2id PHC string that is stored. Hashing and verifying are pure computation.

use std::fmt;
use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash as Phc, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::values::ValidationError;

/// A plaintext password as a user typed it. Its `Debug` shows nothing of it, it has
/// no `Display`, and it is never stored.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// The shortest password accepted.
    pub const MIN_LEN: usize = 8;
    /// The longest password accepted (bounds the hashing work an attacker can ask for).
    pub const MAX_LEN: usize = 256;

    /// Checks the length (in characters); the text is kept exactly, spaces included.
    pub fn new(plaintext: impl Into<String>) -> Result<Self, ValidationError> {
        let plaintext = plaintext.into();
        let len = plaintext.chars().count();
        if len < Self::MIN_LEN {
            return Err(ValidationError::TooShort {
                field: "password",
                len,
                min: Self::MIN_LEN,
            });
        }
        if len > Self::MAX_LEN {
            return Err(ValidationError::TooLong {
                field: "password",
                len,
                max: Self::MAX_LEN,
            });
        }
        Ok(Self(plaintext))
    }

    /// The plaintext, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Why a stored hash could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// The text is not an argon2id PHC string.
    #[error("stored password hash is not an argon2id PHC string")]
    NotArgon2id,
    /// The hashing parameters are out of argon2's range.
    #[error("invalid argon2 parameters: {0}")]
    Params(String),
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl HashCost {
    /// OWASP's current recommendation for argon2id: 19 MiB, 2 iterations, 1 lane.
    pub const OWASP: HashCost = HashCost {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    fn hasher(self) -> Result<Argon2<'static>, PasswordError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| PasswordError::Params(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

impl Default for HashCost {
    fn default() -> Self {
        HashCost::OWASP
    }
}

/// An argon2id hash in PHC string form (`$argon2id$v=19$m=19456,t=2,p=1$...`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Hashes a password with a fresh random salt at the given cost.
    pub fn hash(password: &Password, cost: HashCost) -> Result<Self, PasswordError> {
        let salt = SaltString::generate(&mut OsRng);
        let phc = cost
            .hasher()?
            .hash_password(password.expose().as_bytes(), &salt)
            .map_err(|e| PasswordError::Params(e.to_string()))?;
        Ok(Self(phc.to_string()))
    }

    /// Accepts a stored PHC string if it is argon2id with parameters in argon2's
    /// ranges, so that verifying against it can never fail for its form.
    pub fn parse(phc: &str) -> Result<Self, PasswordError> {
        let parsed = Phc::new(phc).map_err(|_| PasswordError::NotArgon2id)?;
        if parsed.algorithm != Algorithm::Argon2id.ident() {
            return Err(PasswordError::NotArgon2id);
        }
        params(&parsed)?;
        Ok(Self(phc.to_owned()))
    }

    /// True when `password` is the one this hash was made from. Takes the full
    /// hashing cost whatever the answer.
    pub fn verify(&self, password: &Password) -> bool {
        let Ok(parsed) = Phc::new(&self.0) else {
            return false;
        };
        // The parameters come from the PHC string itself.
        Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok()
    }

    /// Spends the same work as [`verify`](Self::verify) against a hash that matches no
    /// password, so a login for an unknown e-mail costs what a wrong password costs.
    pub fn verify_unknown_user(password: &Password, cost: HashCost) {
        static DUMMY: OnceLock<Vec<(HashCost, PasswordHash)>> = OnceLock::new();
        let dummies = DUMMY.get_or_init(|| {
            let dummy = Password("dummy password for unknown users".into());
            [HashCost::OWASP, cost]
                .into_iter()
                .filter_map(|c| PasswordHash::hash(&dummy, c).ok().map(|h| (c, h)))
                .collect()
        });
        let hash = dummies
            .iter()
            .find(|(c, _)| *c == cost)
            .or(dummies.first())
            .map(|(_, h)| h);
        if let Some(hash) = hash {
            let _ = hash.verify(password);
        }
    }

    /// True when this hash was made with a different cost than `cost` (an older,
    /// weaker setting): re-hash on the next successful login.
    pub fn needs_rehash(&self, cost: HashCost) -> bool {
        let Ok(parsed) = Phc::new(&self.0) else {
            return true;
        };
        let Ok(params) = params(&parsed) else {
            return true;
        };
        params.m_cost() != cost.memory_kib
            || params.t_cost() != cost.iterations
            || params.p_cost() != cost.parallelism
    }

    /// The PHC string, for storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The argon2 parameters a PHC string names, if argon2 can use them.
fn params(phc: &Phc<'_>) -> Result<Params, PasswordError> {
    // argon2 0.5 computes `p * 8` in u32 before it checks p's range: for p of 2^29 or
    // more that overflows, a panic wherever overflow checks are on. Check p first.
    for (ident, value) in phc.params.iter() {
        if ident.as_str() == "p" && value.decimal().is_ok_and(|p| p > Params::MAX_P_COST) {
            return Err(PasswordError::Params(format!(
                "parallelism {} is above {}",
                value.as_str(),
                Params::MAX_P_COST
            )));
        }
    }
    Params::try_from(phc).map_err(|e| PasswordError::Params(e.to_string()))
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hash is not the password, but it is offline-attackable: keep it out of logs.
        f.write_str("PasswordHash(argon2id, <redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Cheap parameters so tests stay fast; production uses `HashCost::OWASP`.
    const CHEAP: HashCost = HashCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn hash_verifies_only_the_right_password() {
        let right = Password::new("correct horse battery").unwrap();
        let wrong = Password::new("correct horse battery!").unwrap();
        let hash = PasswordHash::hash(&right, CHEAP).unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(hash.verify(&right));
        assert!(!hash.verify(&wrong));
        assert_eq!(PasswordHash::parse(hash.as_str()).unwrap(), hash);
    }

    #[test]
    fn salts_differ_between_hashes() {
        let p = Password::new("same password").unwrap();
        assert_ne!(
            PasswordHash::hash(&p, CHEAP).unwrap(),
            PasswordHash::hash(&p, CHEAP).unwrap()
        );
    }

    #[test]
    fn owasp_cost_is_the_default() {
        let p = Password::new("a long enough password").unwrap();
        let hash = PasswordHash::hash(&p, HashCost::default()).unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!hash.needs_rehash(HashCost::OWASP));
        assert!(hash.needs_rehash(CHEAP));
    }

    #[test]
    fn secrets_never_print() {
        let p = Password::new("hunter2hunter2").unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
        let h = PasswordHash::hash(&p, CHEAP).unwrap();
        assert!(!format!("{h:?}").contains(h.as_str()));
    }

    #[test]
    fn length_limits_are_typed_errors() {
        assert_eq!(
            Password::new("short").unwrap_err(),
            ValidationError::TooShort {
                field: "password",
                len: 5,
                min: 8
            }
        );
        assert!(matches!(
            Password::new("x".repeat(257)),
            Err(ValidationError::TooLong { .. })
        ));
    }

    #[test]
    fn only_argon2id_hashes_are_accepted() {
        assert_eq!(
            PasswordHash::parse("plaintext"),
            Err(PasswordError::NotArgon2id)
        );
        let argon2i = "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$3dBlNm9tYjhrFkTGHqjOXg";
        assert_eq!(
            PasswordHash::parse(argon2i),
            Err(PasswordError::NotArgon2id)
        );
    }

    #[test]
    fn parameters_out_of_argon2s_range_are_refused_not_a_panic() {
        // Found by the `password` fuzz target: argon2 computes p * 8 before it checks
        // p, so needs_rehash on this stored hash overflowed, a panic in debug builds.
        let crash = "$argon2id$v=19$m=594967295,p=2294967295,t=429496";
        assert!(matches!(
            PasswordHash::parse(crash),
            Err(PasswordError::Params(_))
        ));
        for phc in [
            "$argon2id$v=19$m=64,t=1,p=16777216",
            "$argon2id$v=19$m=64,t=0,p=1",
            "$argon2id$v=19$m=1,t=1,p=1",
            "$argon2id$v=19$m=64,t=1,p=9",
        ] {
            assert!(
                matches!(PasswordHash::parse(phc), Err(PasswordError::Params(_))),
                "{phc}"
            );
        }
        let fine = "$argon2id$v=19$m=64,t=1,p=8";
        assert!(!PasswordHash::parse(fine).unwrap().needs_rehash(HashCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 8,
        }));
    }

    #[test]
    fn unknown_user_verification_does_not_panic() {
        PasswordHash::verify_unknown_user(&Password::new("whatever pw").unwrap(), CHEAP);
    }

    proptest! {
        #[test]
        fn stored_hashes_of_any_cost_parse_or_are_refused(
            m in any::<u32>(),
            t in any::<u32>(),
            p in prop_oneof![any::<u32>(), 1u32..=64],
        ) {
            let phc = format!("$argon2id$v=19$m={m},t={t},p={p}");
            match PasswordHash::parse(&phc) {
                Ok(hash) => {
                    prop_assert_eq!(hash.as_str(), phc.as_str());
                    let same = HashCost { memory_kib: m, iterations: t, parallelism: p };
                    prop_assert!(!hash.needs_rehash(same));
                }
                Err(err) => prop_assert!(matches!(err, PasswordError::Params(_))),
            }
        }
    }
}
