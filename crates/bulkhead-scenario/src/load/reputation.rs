//! The reputation layer's steps (issue 16): `bond`, `unbond`, `checkpoint`, `refresh_standing`, `reprice`.

use super::{Loader, Result, steps::At};
use crate::{model::Action, raw::RawStep};

impl Loader<'_> {
    /// The reputation layer's steps (issue 16); the file must turn it on with `[reputation]`.
    pub(super) fn reputation_action(
        &self,
        at: &At<'_>,
        r: &RawStep,
        by: Option<String>,
    ) -> Result<Action> {
        if !self.reputation_on {
            return Err(self.err(
                at.span.clone(),
                &at.p("action"),
                format!(
                    "action {:?} needs the reputation layer: add a `[reputation]` section",
                    at.action
                ),
            ));
        }
        let avs = |this: &Self| this.avs(at.req(&r.avs, "avs")?, &at.p("avs"));
        Ok(match at.action {
            "bond" | "unbond" => {
                let avs = avs(self)?;
                let asset = self.asset(at.req(&r.asset, "asset")?, &at.p("asset"))?;
                let amount = self.amount(at.req(&r.amount, "amount")?, asset, &at.p("amount"))?;
                if at.action == "bond" {
                    Action::Bond {
                        avs,
                        asset,
                        amount,
                        by,
                    }
                } else {
                    Action::Unbond { avs, asset, amount }
                }
            }
            "checkpoint" => {
                let pool = self.pool(at.req(&r.pool, "pool")?, &at.p("pool"))?;
                let (avs, operator) = match (&r.avs, &r.operator) {
                    (Some(_), None) => (Some(avs(self)?), None),
                    (None, Some(o)) => (None, Some(self.operator(o, &at.p("operator"))?)),
                    _ => {
                        return Err(self.err(
                            at.span.clone(),
                            &at.path,
                            "a checkpoint names either `avs` (an AVS's epoch) or `operator` (an operator's)",
                        ));
                    }
                };
                Action::Checkpoint {
                    avs,
                    operator,
                    pool,
                    by,
                }
            }
            "refresh_standing" => Action::RefreshStanding {
                avs: avs(self)?,
                by,
            },
            _ => Action::Reprice {
                pool: self.pool(at.req(&r.pool, "pool")?, &at.p("pool"))?,
            },
        })
    }
}
