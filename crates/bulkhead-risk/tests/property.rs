//! Property test: on seeded random small networks (≤ 4 services, ≤ 5 validators, both models) the fast searches
//! agree with the brute-force enumerator on secure, max_attack_profit, worst_case_loss and min_byzantine_services,
//! and every attack they return is a real attack with the value they claim.

use bulkhead_risk::{
    brute::{self, Dense},
    certificate::{self, Certificate},
    generate::{self, Params, SplitMix64},
    network::{Model, Net, Network},
    number::{self, Q},
    search::{self, Budget},
    shock,
};
use num_bigint::BigInt;

fn small(rng: &mut SplitMix64, model: Model, profit_pct: (u64, u64)) -> Network {
    random(rng, model, (1, 5), (1, 4), (0, 3), (1, 9), profit_pct)
}

/// Full on even cases, elastic on odd ones.
fn model_for(case: u32) -> Model {
    if case.is_multiple_of(2) {
        Model::Full
    } else {
        Model::Elastic
    }
}

/// A random network with validators, services, degree, stake and profit percentage drawn from the given ranges.
fn random(
    rng: &mut SplitMix64,
    model: Model,
    validators: (u64, u64),
    services: (u64, u64),
    degree: (usize, usize),
    stake: (u64, u64),
    profit_pct: (u64, u64),
) -> Network {
    let params = Params {
        validators: rng.range(validators.0, validators.1) as usize,
        services: rng.range(services.0, services.1) as usize,
        model,
        degree,
        stake,
        profit_pct,
    };
    generate::network(rng, &params)
}

fn check(network: &Network, case: &str) {
    let net = Net::from_network(network).unwrap();
    let dense = Dense::new(network);
    let reference = brute::attacks(&dense);
    let mut budget = Budget::new(u64::MAX);
    let found = search::max_attack(&net, &mut budget, false)
        .unwrap()
        .unwrap();
    let ctx = || format!("{case}: {}", network.to_json());
    // The attack is real and its value is what the search says.
    assert!(
        found.attack.is_valid(&net),
        "invalid attack {:?} in {}",
        found.attack,
        ctx()
    );
    assert_eq!(found.attack.value(&net), found.value, "{}", ctx());
    assert_eq!(
        Some(net.value(found.value)),
        reference.max_profit,
        "max_attack_profit in {}",
        ctx()
    );
    // The decision mode agrees on secure.
    let decided = search::max_attack(&net, &mut Budget::new(u64::MAX), true)
        .unwrap()
        .unwrap();
    assert_eq!(decided.value > 0, found.value > 0, "secure in {}", ctx());
    // Costliest profitable attack.
    let mpc = shock::max_profitable_cost(&net, &mut Budget::new(u64::MAX)).unwrap();
    assert_eq!(
        mpc.as_ref().map(|m| net.value(m.0)),
        reference.max_profitable_cost,
        "max profitable cost in {}",
        ctx()
    );
    if let Some((cost, attack)) = &mpc {
        assert!(
            attack.is_valid(&net) && attack.cost(&net) == *cost && attack.profit(&net) > *cost,
            "{}",
            ctx()
        );
    }
    // Worst-case loss at a few shock sizes.
    let total = net.total_stake();
    for psi in ["0", "1/10", "1/4", "1/2"] {
        let psi_q = number::parse(psi).unwrap();
        let cap = (&psi_q * Q::from_integer(BigInt::from(total)))
            .floor()
            .to_integer();
        let cap: i128 = cap.try_into().unwrap();
        let (loss, _, _) = shock::worst_case_loss(&net, cap, &mut Budget::new(u64::MAX)).unwrap();
        assert_eq!(
            number::frac(loss, total),
            brute::worst_case_loss(&dense, &psi_q),
            "worst_case_loss({psi}) in {}",
            ctx()
        );
    }
    // Bounds used at scale bracket the exact values.
    let upper = certificate::attack_profit_upper_bound(&net);
    assert!(
        upper >= net.value(found.value),
        "LP bound {upper} below the maximum in {}",
        ctx()
    );
    let greedy = search::greedy_attack(&net).unwrap();
    assert!(
        greedy.attack.is_valid(&net) && greedy.value <= found.value,
        "{}",
        ctx()
    );
    // D&R's certificate: when it holds, the network is secure and every shock loses less than (1 + 1/γ)ψ.
    let cert = Certificate::new(network);
    if cert.proves_secure() {
        assert!(found.value <= 0, "certificate but insecure: {}", ctx());
        for psi in ["1/20", "1/5", "1/2"] {
            let psi_q = number::parse(psi).unwrap();
            let bound = cert.loss_bound(&psi_q).unwrap();
            let exact = brute::worst_case_loss(&dense, &psi_q);
            assert!(
                exact < bound || (cert.unbounded && exact <= bound),
                "wcl({psi}) {exact} ≥ bound {bound} in {}",
                ctx()
            );
        }
    }
    // Byzantine services.
    let byz = search::min_byzantine_services(&net, &mut Budget::new(u64::MAX)).unwrap();
    assert_eq!(
        byz.as_ref().map(|b| b.0),
        brute::min_byzantine_services(&dense),
        "min_byzantine_services in {}",
        ctx()
    );
    if let Some((k, z, _)) = &byz {
        assert_eq!(z.len(), *k);
    }
}

#[test]
fn fast_search_matches_brute_force_full() {
    let mut rng = SplitMix64::new(0xB01_C4EAD);
    for case in 0..150 {
        let network = small(&mut rng, Model::Full, (0, 300));
        check(&network, &format!("full case {case}"));
    }
}

#[test]
fn fast_search_matches_brute_force_elastic() {
    let mut rng = SplitMix64::new(0x0E1A_571C);
    for case in 0..150 {
        let network = small(&mut rng, Model::Elastic, (0, 300));
        check(&network, &format!("elastic case {case}"));
    }
}

/// Low profits: most networks carry a D&R certificate, whose claims are checked against the brute force.
#[test]
fn certificates_hold_on_random_networks() {
    let mut rng = SplitMix64::new(0xD_A0B);
    let mut certified = 0;
    for case in 0..120 {
        let model = model_for(case);
        let network = small(&mut rng, model, (0, 40));
        certified += usize::from(Certificate::new(&network).gamma.is_some());
        check(&network, &format!("low-profit case {case}"));
    }
    assert!(
        certified > 30,
        "only {certified} certified networks: the test would check little"
    );
}

/// The costliest profitable attack when joining every coalition is too expensive (the participation search):
/// more validators (up to 7), one or two services, high profits, so that profit(A) falls between the cheapest cover
/// and the all-in cost. Checked against the brute force's largest profitable cost.
#[test]
fn costliest_profitable_attack_matches_brute_force() {
    let mut rng = SplitMix64::new(0xC057_11E5);
    let mut searched = 0;
    for case in 0..200 {
        let model = model_for(case);
        let network = random(&mut rng, model, (4, 7), (1, 2), (1, 2), (1, 30), (100, 400));
        let net = Net::from_network(&network).unwrap();
        let reference = brute::attacks(&Dense::new(&network));
        let fast = shock::max_profitable_cost(&net, &mut Budget::new(u64::MAX)).unwrap();
        assert_eq!(
            fast.as_ref().map(|m| net.value(m.0)),
            reference.max_profitable_cost,
            "case {case}: {}",
            network.to_json()
        );
        if let Some((cost, attack)) = &fast {
            assert!(
                attack.is_valid(&net) && attack.cost(&net) == *cost && attack.profit(&net) > *cost
            );
            let all_in: i128 = (0..net.n())
                .map(|v| {
                    let load: i128 = net.by_validator[v]
                        .iter()
                        .filter(|(s, _)| attack.services.contains(s))
                        .map(|&(_, w)| w)
                        .sum();
                    load.min(net.stake[v])
                })
                .sum();
            searched += usize::from(all_in >= attack.profit(&net));
        }
    }
    assert!(
        searched > 20,
        "only {searched} cases needed the participation search"
    );
}

/// Stress for the pruning of worst_case_loss and of the costliest profitable attack: equal stakes (many ties between
/// shocks and between covers), profits that are multiples of the stake (ties profit == cost, which are not attacks),
/// and shocks that fill the cap exactly (ψ = k / n with n equal stakes: stake(D) = ψ · total for |D| = k).
#[test]
fn worst_case_loss_ties_and_cap_boundaries_match_brute_force() {
    let mut rng = SplitMix64::new(0x0713_5CA9);
    for case in 0..120 {
        let model = model_for(case);
        let n = rng.range(2, 6) as usize;
        let params = Params {
            validators: n,
            services: rng.range(1, 3) as usize,
            model,
            degree: (1, 3),
            stake: (4, 4),
            profit_pct: (0, 0),
        };
        let mut network = generate::network(&mut rng, &params);
        for s in &mut network.services {
            // Profits 0, 4, 8, … 20: a multiple of the common stake, so some attacks tie profit == cost.
            s.profit = Q::from_integer(BigInt::from(4 * rng.range(0, 5)));
        }
        let net = Net::from_network(&network).unwrap();
        let dense = Dense::new(&network);
        let reference = brute::attacks(&dense);
        let mpc = shock::max_profitable_cost(&net, &mut Budget::new(u64::MAX)).unwrap();
        assert_eq!(
            mpc.as_ref().map(|m| net.value(m.0)),
            reference.max_profitable_cost,
            "case {case}: {}",
            network.to_json()
        );
        let total = net.total_stake();
        for k in 0..=n {
            let psi_q = Q::new(BigInt::from(k as u64), BigInt::from(n as u64));
            let cap = (&psi_q * Q::from_integer(BigInt::from(total)))
                .floor()
                .to_integer();
            let cap: i128 = cap.try_into().unwrap();
            let (loss, d, attack) =
                shock::worst_case_loss(&net, cap, &mut Budget::new(u64::MAX)).unwrap();
            assert_eq!(
                number::frac(loss, total),
                brute::worst_case_loss(&dense, &psi_q),
                "case {case}, ψ = {k}/{n}: {}",
                network.to_json()
            );
            // The reported shock and attack are real and add up to the loss.
            let sd: i128 = d.iter().map(|&v| net.stake[v]).sum();
            assert!(sd <= cap);
            let mut removed = vec![false; net.n()];
            for &v in &d {
                removed[v] = true;
            }
            let sub = net.without_validators(&removed);
            let c = attack.as_ref().map_or(0, |a| {
                assert!(a.is_valid(&sub) && a.profit(&sub) > a.cost(&sub));
                a.cost(&sub)
            });
            assert_eq!(sd + c, loss, "case {case}: {}", network.to_json());
        }
    }
}

/// worst_case_loss with cap `cap` (scaled) against the brute force at ψ = cap / total, and the shock and attack it
/// returns checked for real: within the cap, the attack valid and profitable once the shock is gone, adding up to
/// the loss.
fn check_worst_case(network: &Network, cap: i128, case: &str) {
    let net = Net::from_network(network).unwrap();
    let total = net.total_stake();
    let psi = number::frac(cap, total);
    let (loss, d, attack) = shock::worst_case_loss(&net, cap, &mut Budget::new(u64::MAX)).unwrap();
    let ctx = || format!("{case}, ψ = {psi}: {}", network.to_json());
    assert_eq!(
        number::frac(loss, total),
        brute::worst_case_loss(&Dense::new(network), &psi),
        "{}",
        ctx()
    );
    let sd: i128 = d.iter().map(|&v| net.stake[v]).sum();
    assert!(sd <= cap, "{}", ctx());
    let mut removed = vec![false; net.n()];
    for &v in &d {
        removed[v] = true;
    }
    let sub = net.without_validators(&removed);
    let c = attack.as_ref().map_or(0, |a| {
        assert!(
            a.is_valid(&sub) && a.profit(&sub) > a.cost(&sub),
            "{}",
            ctx()
        );
        a.cost(&sub)
    });
    assert_eq!(sd + c, loss, "{}", ctx());
}

/// Every integer cap from 0 to the total stake: every boundary where a shock starts to fit, in both models, with
/// profits from none to four times the cover cost (ties profit == cost included: integer stakes 1..5).
#[test]
fn worst_case_loss_at_every_cap_matches_brute_force() {
    let mut rng = SplitMix64::new(0xCA95);
    for case in 0..80 {
        let model = model_for(case);
        let network = random(&mut rng, model, (1, 4), (1, 3), (1, 3), (1, 5), (0, 400));
        let total = Net::from_network(&network).unwrap().total_stake();
        for cap in 0..=total {
            check_worst_case(&network, cap, &format!("case {case}"));
        }
    }
}

/// Rational numbers and huge stakes: every stake and weight of a validator times (10⁹ + 7 + δ) / c, every profit
/// likewise (c ∈ 1..3), so the common denominator is not 1 and the subset sums are far too wide for a bitset (the
/// branch-and-bound subset sums and knapsacks answer).
#[test]
fn worst_case_loss_with_rational_and_huge_numbers_matches_brute_force() {
    let mut rng = SplitMix64::new(0x8_16E);
    for case in 0..80 {
        let model = model_for(case);
        let mut network = random(&mut rng, model, (1, 5), (1, 3), (1, 3), (1, 9), (20, 600));
        let mut factor = || {
            Q::new(
                BigInt::from(1_000_000_007 + rng.range(0, 999)),
                BigInt::from(rng.range(1, 3)),
            )
        };
        let factors: Vec<Q> = network.validators.iter().map(|_| factor()).collect();
        for (v, f) in network.validators.iter_mut().zip(&factors) {
            v.stake *= f;
        }
        for (v, _, w) in &mut network.weights {
            *w *= &factors[*v];
        }
        for s in &mut network.services {
            s.profit *= factor();
        }
        let net = Net::from_network(&network).unwrap();
        let total = net.total_stake();
        for (num, den) in [(0, 1), (1, 10), (1, 4), (1, 2), (1, 1)] {
            check_worst_case(&network, total * num / den, &format!("case {case}"));
        }
    }
}

/// Very insecure networks (profits up to 20 times the cover cost): the all-in attack on every service is often
/// affordable, so the search answers from the all-in knapsack and the dominance of the largest set; checked against
/// the brute force, and counted so that the test keeps exercising that path.
#[test]
fn worst_case_loss_on_very_insecure_networks_matches_brute_force() {
    let mut rng = SplitMix64::new(0x1_05EC);
    let mut all_in_affordable = 0;
    for case in 0..120 {
        let model = model_for(case);
        let network = random(
            &mut rng,
            model,
            (2, 5),
            (1, 3),
            (1, 3),
            (1, 20),
            (300, 2000),
        );
        let net = Net::from_network(&network).unwrap();
        let all_in: i128 = (0..net.n())
            .map(|v| {
                let load: i128 = net.by_validator[v].iter().map(|x| x.1).sum();
                load.min(net.stake[v])
            })
            .sum();
        all_in_affordable += usize::from(all_in < net.profit.iter().sum::<i128>());
        let total = net.total_stake();
        for (num, den) in [(0, 1), (1, 10), (1, 4), (1, 2)] {
            check_worst_case(&network, total * num / den, &format!("case {case}"));
        }
    }
    assert!(
        all_in_affordable > 40,
        "only {all_in_affordable} networks with an affordable all-in attack"
    );
}
