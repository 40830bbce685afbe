//! Delta debugging: delete steps (halves, quarters, … single steps) while the mismatch persists, cut the timeline
//! after the mismatch, then drop the actors, AVSs and pools no step uses.

use crate::Result;

use crate::{
    model::Mutation,
    run::{Base, Mismatch, differential_with},
    spec::Spec,
};

/// A shrunk failing scenario.
#[derive(Debug, Clone)]
pub struct Shrunk {
    /// The smallest spec found that still disagrees.
    pub spec: Spec,
    /// Its mismatch.
    pub mismatch: Mismatch,
    /// Differential runs spent.
    pub runs: usize,
}

/// `Some(mismatch)` if `spec` is a valid scenario on which model and chain disagree.
/// A candidate the engine cannot run (it reports an error) is not interesting either.
fn failing(
    base: &Base,
    spec: &Spec,
    mutation: Mutation,
    checkable: bool,
) -> Result<Option<Mismatch>> {
    Ok(match differential_with(base, spec, mutation, checkable) {
        Ok(verdict) if verdict.invalid.is_none() => verdict.mismatch,
        Ok(_) => None,
        Err(e) => {
            tracing::debug!("shrinking: a candidate could not run: {e:#}");
            None
        }
    })
}

fn truncated(mut spec: Spec, mismatch: &Mismatch) -> Spec {
    spec.steps.truncate(mismatch.step + 1);
    spec
}

/// Shrinks `spec`, which fails with `mismatch`, within `budget` differential runs. If the disagreement shows (maybe
/// later) in something a scenario file can check, that is what the shrunk scenario keeps failing on, so its file
/// reproduces under `bulkhead simulate`; otherwise any mismatch is kept.
pub fn shrink(
    base: &Base,
    spec: &Spec,
    mismatch: &Mismatch,
    mutation: Mutation,
    budget: usize,
) -> Result<Shrunk> {
    let (checkable, mismatch) = match failing(base, spec, mutation, true)? {
        Some(m) => (true, m),
        None => (false, mismatch.clone()),
    };
    let mut best = truncated(spec.clone(), &mismatch);
    let mut best_mismatch = mismatch;
    let mut runs = 1;
    let mut chunk = best.steps.len().div_ceil(2).max(1);
    loop {
        let mut changed = false;
        let mut i = 0;
        while i < best.steps.len() && runs < budget {
            let mut candidate = best.clone();
            let end = (i + chunk).min(candidate.steps.len());
            candidate.steps.drain(i..end);
            runs += 1;
            if !candidate.steps.is_empty()
                && let Some(m) = failing(base, &candidate, mutation, checkable)?
            {
                best = truncated(candidate, &m);
                best_mismatch = m;
                changed = true;
            } else {
                i += chunk;
            }
        }
        if runs >= budget || (chunk == 1 && !changed) {
            break;
        }
        chunk = (chunk / 2).max(1);
    }
    let mut compact = best.clone();
    compact.compact();
    if compact != best {
        runs += 1;
        if let Some(m) = failing(base, &compact, mutation, checkable)? {
            best = truncated(compact, &m);
            best_mismatch = m;
        }
    }
    Ok(Shrunk {
        spec: best,
        mismatch: best_mismatch,
        runs,
    })
}
