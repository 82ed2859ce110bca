//! Passwords: a [`Password`] is plaintext that never prints, a [`PasswordHash`] is the
//! argon2id PHC string that is stored. Hashing and verifying are pure computation.
//!
//! Every argon2id evaluation can be observed with [`argon2_runs`]: that is how the
//! tests show that a login for an unknown e-mail does the same work as a wrong
//! password, in every store.

use std::cell::RefCell;
use std::fmt;

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
        let hasher = cost.hasher()?;
        record(Argon2Op::Hash, cost);
        let phc = hasher
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
        let Ok(params) = params(&parsed) else {
            return false;
        };
        record(
            Argon2Op::Verify,
            HashCost {
                memory_kib: params.m_cost(),
                iterations: params.t_cost(),
                parallelism: params.p_cost(),
            },
        );
        Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok()
    }

    /// Spends the same work as [`verify`](Self::verify) of a hash made at `cost`, so a
    /// login for an unknown e-mail costs what a wrong password costs: one argon2id
    /// evaluation with the same parameters, salt and output lengths.
    pub fn verify_unknown_user(password: &Password, cost: HashCost) {
        // A stored hash's shape (16-byte salt, 32-byte output) at `cost`, matching no
        // password anyone would type. Built afresh per call, so every cost gets its
        // own, and no call pays for making it: verifying never needs a real hash.
        let dummy = format!(
            "$argon2id$v=19$m={},t={},p={}$ZWNvbS1kdW1teS1zYWx0IQ$\
             AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            cost.memory_kib, cost.iterations, cost.parallelism
        );
        // Parameters argon2 refuses hash no password either, so there is no user of
        // them whose wrong password would cost anything.
        if let Ok(hash) = PasswordHash::parse(&dummy) {
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

/// Which argon2id computation an [`Argon2Run`] was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Argon2Op {
    /// Hashing a new password ([`PasswordHash::hash`]).
    Hash,
    /// Verifying a password against a stored hash ([`PasswordHash::verify`], also on
    /// behalf of [`PasswordHash::verify_unknown_user`]).
    Verify,
}

/// One argon2id evaluation, with the parameters it ran with: what it cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Run {
    /// Hashing or verifying.
    pub op: Argon2Op,
    /// Memory, iterations and lanes of that evaluation.
    pub cost: HashCost,
}

thread_local! {
    /// The runs of the innermost [`argon2_runs`] open on this thread, if any.
    static RUNS: RefCell<Option<Vec<Argon2Run>>> = const { RefCell::new(None) };
}

fn record(op: Argon2Op, cost: HashCost) {
    RUNS.with_borrow_mut(|runs| {
        if let Some(runs) = runs {
            runs.push(Argon2Run { op, cost });
        }
    });
}

/// Runs `work` and returns, beside its value, every argon2id evaluation it made on
/// this thread, in order, with its parameters.
///
/// For tests and metrics that need the hashing work of a call rather than its wall
/// time, which a busy machine blurs: a login for an unknown e-mail must cost what a
/// wrong password costs. Both stores hash and verify on the calling thread. Calls
/// nest (an outer call sees the inner one's runs too); outside any call nothing is
/// recorded, and an evaluation costs one thread-local check more.
///
/// ```
/// use ecom_domain::password::{argon2_runs, Argon2Op, HashCost, Password, PasswordHash};
///
/// let cost = HashCost { memory_kib: 64, iterations: 1, parallelism: 1 };
/// let password = Password::new("correct horse battery").unwrap();
/// let hash = PasswordHash::hash(&password, cost).unwrap();
/// let (ok, runs) = argon2_runs(|| hash.verify(&password));
/// assert!(ok);
/// assert_eq!(runs.len(), 1);
/// assert_eq!((runs[0].op, runs[0].cost), (Argon2Op::Verify, cost));
/// ```
pub fn argon2_runs<T>(work: impl FnOnce() -> T) -> (T, Vec<Argon2Run>) {
    /// Restores the enclosing call's list, with this call's runs added, also when
    /// `work` panics.
    struct Scope(Option<Option<Vec<Argon2Run>>>);

    impl Scope {
        fn close(&mut self) -> Vec<Argon2Run> {
            let Some(outer) = self.0.take() else {
                return Vec::new();
            };
            RUNS.with_borrow_mut(|current| {
                let inner = current.take().unwrap_or_default();
                *current = outer.map(|mut outer| {
                    outer.extend_from_slice(&inner);
                    outer
                });
                inner
            })
        }
    }

    impl Drop for Scope {
        fn drop(&mut self) {
            self.close();
        }
    }

    let mut scope = Scope(Some(RUNS.replace(Some(Vec::new()))));
    let value = work();
    (value, scope.close())
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
    fn an_unknown_user_costs_the_argon2_work_of_a_wrong_password_at_any_cost() {
        let typed = Password::new("whatever pw").unwrap();
        let other = HashCost {
            memory_kib: 256,
            iterations: 3,
            parallelism: 2,
        };
        // Two costs in one process: each unknown user is checked at its store's cost,
        // not at the first one ever asked for.
        for cost in [CHEAP, other, CHEAP] {
            let stored = PasswordHash::hash(&Password::new("the real one").unwrap(), cost).unwrap();
            let (matched, wrong) = argon2_runs(|| stored.verify(&typed));
            assert!(!matched);
            let ((), unknown) = argon2_runs(|| PasswordHash::verify_unknown_user(&typed, cost));
            let one_verify = vec![Argon2Run {
                op: Argon2Op::Verify,
                cost,
            }];
            assert_eq!(wrong, one_verify);
            assert_eq!(unknown, wrong, "at {cost:?}");
        }
    }

    #[test]
    fn argon2_runs_sees_this_threads_work_and_nests() {
        let p = Password::new("correct horse battery").unwrap();
        let ((hash, inner), outer) = argon2_runs(|| {
            let inner = argon2_runs(|| PasswordHash::hash(&p, CHEAP).unwrap());
            assert!(inner.0.verify(&p));
            inner
        });
        let hashed = Argon2Run {
            op: Argon2Op::Hash,
            cost: CHEAP,
        };
        let verified = Argon2Run {
            op: Argon2Op::Verify,
            cost: CHEAP,
        };
        assert_eq!(inner, vec![hashed]);
        assert_eq!(outer, vec![hashed, verified]);
        // Outside any call, and on other threads, nothing is recorded.
        assert!(hash.verify(&p));
        let ((), none) = argon2_runs(|| {
            std::thread::spawn(move || assert!(hash.verify(&p)))
                .join()
                .unwrap();
        });
        assert!(none.is_empty());
        // A panic inside closes the call all the same.
        let caught = std::panic::catch_unwind(|| argon2_runs(|| panic!("in work")));
        assert!(caught.is_err());
        assert!(RUNS.with_borrow(Option::is_none));
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
