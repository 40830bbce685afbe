//! The slashing modules: double-sign proofs (`DoubleSignSlasher`) and committee votes (`CommitteeSlasher`).

use alloy::primitives::aliases::U48;
use alloy::{
    primitives::{Address, B256, U256, keccak256},
    signers::{SignerSync, local::PrivateKeySigner},
};
use bulkhead_contracts::{CommitteeSlasher, DoubleSignSlasher};
use bulkhead_evm::deploy::initcode;

use crate::{Protocol, ProtocolError, Result, Sent};

/// Two votes for different payloads in one round, signed by one key: the objective fault `slashDoubleSign` proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoubleSign {
    /// The round both votes are for.
    pub round: u64,
    /// The first payload and its signature.
    pub payload_a: B256,
    /// Its 65-byte signature.
    pub signature_a: Vec<u8>,
    /// The second payload.
    pub payload_b: B256,
    /// Its signature.
    pub signature_b: Vec<u8>,
}

/// What a `CommitteeSlasher` is deployed with: a vetoable AVS whose requests a quorum of members votes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committee {
    /// `metadataURI` of the AVS the module registers.
    pub metadata_uri: String,
    /// Where its slashes go.
    pub sink: Address,
    /// Who can veto its requests.
    pub resolver: Address,
    /// Seconds a request waits for a veto.
    pub veto_window: u64,
    /// Seconds a proposal takes votes, the quorum's included (`votingPeriod`): positive, at most the veto window plus
    /// the execution window, and below the deallocation delay minus both ([`Committee::longest_voting_period`]).
    pub voting_period: u64,
    /// Largest fraction of a backing one slash takes (WAD).
    pub max_slash_wad: u64,
    /// The members.
    pub members: Vec<Address>,
    /// Votes a proposal needs.
    pub quorum: u32,
}

impl Committee {
    /// The longest voting period the `CommitteeSlasher` constructor accepts with `veto_window` under a manager with
    /// `execution_window` and `deallocation_delay`: `min(veto + execution, deallocation − veto − execution − 1)`, so
    /// that the proposal's announcement covers every vote and a deallocation filed at the proposal is still in effect
    /// at the last executable second of its quorum's request. 0 when none fits (the manager refuses the window then).
    pub fn longest_voting_period(
        veto_window: u64,
        execution_window: u64,
        deallocation_delay: u64,
    ) -> u64 {
        let flow = veto_window.saturating_add(execution_window);
        if flow >= deallocation_delay {
            return 0;
        }
        (deallocation_delay - flow - 1).min(flow)
    }
}

impl Protocol<'_> {
    /// Deploys a `DoubleSignSlasher` from `from` (labelled `label`); it registers its AVS in its constructor, which
    /// slashes `fraction_wad` per proven double sign. The module's address and the AVS's id.
    pub fn deploy_double_sign_module(
        &mut self,
        from: Address,
        label: &str,
        metadata_uri: String,
        sink: Address,
        fraction_wad: u64,
    ) -> Result<(Address, u32)> {
        let args = DoubleSignSlasher::constructorCall {
            manager_: self.sys.manager,
            vault_: self.sys.vault,
            registry_: self.sys.registry,
            metadataURI: metadata_uri,
            sink,
            slashFractionWad_: fraction_wad,
        };
        let code = initcode(&DoubleSignSlasher::BYTECODE, &args);
        let module = self.deploy(from, label, "DoubleSignSlasher.constructor", code)?;
        let id = self.read(module, DoubleSignSlasher::avsIdCall {})?;
        Ok((module, id))
    }

    /// Deploys a `CommitteeSlasher` from `from` (labelled `label`); it registers its AVS in its constructor. The
    /// module's address and the AVS's id.
    pub fn deploy_committee_module(
        &mut self,
        from: Address,
        label: &str,
        committee: &Committee,
    ) -> Result<(Address, u32)> {
        let args = CommitteeSlasher::constructorCall {
            manager_: self.sys.manager,
            vault_: self.sys.vault,
            metadataURI: committee.metadata_uri.clone(),
            sink: committee.sink,
            resolver: committee.resolver,
            vetoWindow: U48::from(committee.veto_window),
            votingPeriod_: U48::from(committee.voting_period),
            maxSlashWad: committee.max_slash_wad,
            members: committee.members.clone(),
            quorum_: committee.quorum,
        };
        let code = initcode(&CommitteeSlasher::BYTECODE, &args);
        let module = self.deploy(from, label, "CommitteeSlasher.constructor", code)?;
        let id = self.read(module, CommitteeSlasher::avsIdCall {})?;
        Ok((module, id))
    }

    /// Signs two different votes of `round` with `key`, through the module's vote digest: a proof against whoever
    /// registered `key` as signing key. (The payloads are fixed per round: `keccak256("round R: block A" / "B")`.)
    pub fn sign_double_vote(
        &self,
        module: Address,
        key: &PrivateKeySigner,
        round: u64,
    ) -> Result<DoubleSign> {
        let payload_a = keccak256(format!("round {round}: block A"));
        let payload_b = keccak256(format!("round {round}: block B"));
        let sign = |payload: B256| -> Result<Vec<u8>> {
            let digest = self.read(module, DoubleSignSlasher::voteDigestCall { round, payload })?;
            let signature = key
                .sign_hash_sync(&digest)
                .map_err(|e| ProtocolError::Signing {
                    what: format!("the vote digest of round {round}"),
                    reason: e.to_string(),
                })?;
            Ok(signature.as_bytes().to_vec())
        };
        Ok(DoubleSign {
            round,
            signature_a: sign(payload_a)?,
            payload_a,
            signature_b: sign(payload_b)?,
            payload_b,
        })
    }

    /// `DoubleSignSlasher.slashDoubleSign`, sent by `from` (anyone): slashes `operator` in each of `pools` for the
    /// proof; the amounts taken, pool by pool.
    pub fn slash_double_sign(
        &mut self,
        from: Address,
        module: Address,
        operator: Address,
        proof: DoubleSign,
        pools: Vec<U256>,
    ) -> Result<Sent<Vec<U256>>> {
        let call = DoubleSignSlasher::slashDoubleSignCall {
            operator,
            round: proof.round,
            payloadA: proof.payload_a,
            signatureA: proof.signature_a.into(),
            payloadB: proof.payload_b,
            signatureB: proof.signature_b.into(),
            poolIds: pools,
        };
        self.tx(from, module, call)
    }

    /// `CommitteeSlasher.propose`, sent by a member (its vote counts): the proposal's id.
    pub fn propose(
        &mut self,
        member: Address,
        module: Address,
        pool: U256,
        fraction_wad: u64,
        evidence: B256,
    ) -> Result<Sent<U256>> {
        let call = CommitteeSlasher::proposeCall {
            poolId: pool,
            fractionWad: fraction_wad,
            evidence,
        };
        self.tx(member, module, call)
    }

    /// `CommitteeSlasher.vote`: at quorum the module requests the slash from the manager.
    pub fn vote(&mut self, member: Address, module: Address, proposal: U256) -> Result<Sent<()>> {
        let call = CommitteeSlasher::voteCall {
            proposalId: proposal,
        };
        self.tx(member, module, call).map(|r| r.map(|_| ()))
    }

    /// `CommitteeSlasher.execute`, sent by anyone after the veto window: the amount taken.
    pub fn execute_proposal(
        &mut self,
        from: Address,
        module: Address,
        proposal: U256,
    ) -> Result<Sent<U256>> {
        let call = CommitteeSlasher::executeCall {
            proposalId: proposal,
        };
        self.tx(from, module, call)
    }
}
